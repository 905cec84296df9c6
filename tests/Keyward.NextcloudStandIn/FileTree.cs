using System.Collections.Concurrent;

namespace Keyward.NextcloudStandIn;

/// <summary>
/// Each user's files on disk under the data directory, with Nextcloud-style file ids: a number per path, kept across
/// renames (a MOVE carries the ids of the moved subtree), new for copies. Ids live in memory: the stand-in starts empty.
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

    public long IdOf(string fullPath) => _ids.GetOrAdd(fullPath, _ => Interlocked.Increment(ref _nextId));

    /// <summary>The disk path that has this id, if it still exists.</summary>
    public string? PathOf(long id) => _ids.FirstOrDefault(p => p.Value == id && (File.Exists(p.Key) || Directory.Exists(p.Key))).Key;

    public void Forget(string fullPath)
    {
        foreach (var key in _ids.Keys.Where(k => k == fullPath || k.StartsWith(fullPath + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        {
            _ids.TryRemove(key, out _);
        }
    }

    /// <summary>Moves the ids of a subtree along with a rename.</summary>
    public void Renamed(string from, string to)
    {
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
