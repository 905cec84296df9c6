using System.Collections.Concurrent;

namespace Keyward.NextcloudStandIn;

/// <summary>
/// Each user's files on disk under the data directory, with Nextcloud-style file ids: a number per path, kept across
/// renames (a MOVE carries the ids of the moved subtree), new for copies. Ids live in memory: the stand-in starts empty.
/// A folder shared with another user is a symbolic link at the top of the recipient's folder to the owner's: seen
/// through it, a node keeps the owner's path, id and owner (<see cref="Canonical"/>), as one node of Nextcloud's.
/// </summary>
public sealed class FileTree
{
    public const string InstanceId = "ocstandin1";
    private readonly string _root;
    private readonly ConcurrentDictionary<string, long> _ids = new(StringComparer.Ordinal);
    private long _nextId;
    private readonly Lock _renames = new();

    public FileTree(string root, long firstId)
    {
        _nextId = firstId - 1;
        _root = Path.GetFullPath(root);
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        Directory.CreateDirectory(_root);
    }

    /// <summary>The disk path of a user's DAV path (segments already decoded); null when it would leave the user's folder.</summary>
    public string? Resolve(string uid, string relative)
    {
        var home = Path.Combine(_root, uid);
        Directory.CreateDirectory(home);
        var full = Path.GetFullPath(Path.Combine(home, relative.TrimStart('/')));
        return full == home || full.StartsWith(home + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? full.TrimEnd(Path.DirectorySeparatorChar) : null;
    }

    public long IdOf(string fullPath) => _ids.GetOrAdd(Canonical(fullPath), _ => Interlocked.Increment(ref _nextId));

    /// <summary>The user whose files hold the node (the owner, also when seen through a share).</summary>
    public string OwnerOf(string fullPath) => Path.GetRelativePath(_root, Canonical(fullPath)).Split(Path.DirectorySeparatorChar)[0];

    /// <summary>The owner's disk path of a path that may lead through a share's link.</summary>
    public string Canonical(string fullPath)
    {
        var parts = Path.GetRelativePath(_root, fullPath).Split(Path.DirectorySeparatorChar, 3);
        if (parts.Length < 2 || new DirectoryInfo(Path.Combine(_root, parts[0], parts[1])).LinkTarget is not { } target)
        {
            return fullPath;
        }

        return parts.Length == 3 ? Path.Combine(target, parts[2]) : target;
    }

    /// <summary>Where the user sees a node: in their own folder, or through a share's link; null when they cannot.</summary>
    public string? ViewOf(string uid, string canonical)
    {
        var home = Resolve(uid, "")!;
        if (canonical.StartsWith(home + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return canonical;
        }

        foreach (var link in new DirectoryInfo(home).EnumerateDirectories().Where(d => d.LinkTarget is not null))
        {
            var target = link.LinkTarget!;
            if (canonical == target || canonical.StartsWith(target + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                return link.FullName + canonical[target.Length..];
            }
        }

        return null;
    }

    /// <summary>Shares a folder with a user: a link at the top of their folder, named as the folder (numbered if taken).</summary>
    public string Mount(string ownerPath, string recipientUid)
    {
        var home = Resolve(recipientUid, "")!;
        var name = Path.GetFileName(ownerPath);
        var link = Path.Combine(home, name);
        for (var n = 2; File.Exists(link) || Directory.Exists(link); n++)
        {
            link = Path.Combine(home, $"{name} ({n})");
        }

        Directory.CreateSymbolicLink(link, ownerPath);
        return link;
    }

    /// <summary>Ends a share: the link goes, the owner's folder stays.</summary>
    public static void Unmount(string link)
    {
        if (new DirectoryInfo(link).LinkTarget is not null)
        {
            File.Delete(link); // unlink(2): removes the link itself, never what it points to
        }
    }

    /// <summary>The disk path that has this id, if it still exists.</summary>
    public string? PathOf(long id) => _ids.FirstOrDefault(p => p.Value == id && (File.Exists(p.Key) || Directory.Exists(p.Key))).Key;

    public void Forget(string fullPath)
    {
        fullPath = Canonical(fullPath);
        foreach (var key in _ids.Keys.Where(k => k == fullPath || k.StartsWith(fullPath + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        {
            _ids.TryRemove(key, out _);
        }
    }

    /// <summary>Moves the ids of a subtree along with a rename.</summary>
    public void Renamed(string from, string to)
    {
        (from, to) = (Canonical(from), Canonical(to));
        lock (_renames)
        {
            foreach (var key in _ids.Keys.Where(k => k == from || k.StartsWith(from + Path.DirectorySeparatorChar, StringComparison.Ordinal)).ToList())
            {
                if (_ids.TryRemove(key, out var id))
                {
                    _ids[to + key[from.Length..]] = id;
                }
            }
        }
    }

    /// <summary><c>oc:id</c> / <c>OC-FileId</c>: the id padded to 8 digits, then the instance id.</summary>
    public static string OcId(long id) => id.ToString("D8", System.Globalization.CultureInfo.InvariantCulture) + InstanceId;
}
