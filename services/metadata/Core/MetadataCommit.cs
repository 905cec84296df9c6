using System.Security.Cryptography;
using System.Text;

namespace Keyward.Metadata.Core;

/// <summary>What an unlock does to one touched folder (reference §b): commit the pending version or drop it.</summary>
public static class MetadataCommit
{
    /// <summary>
    /// Promotes the pending version: a pending delete removes the committed metadata; otherwise the pending
    /// text and signature become the committed ones and the lock's counter becomes the stored counter.
    /// Returns the version record to keep, or null when nothing was pending.
    /// </summary>
    public static MetadataVersionRecorded? Commit(EncryptedFolder folder, string user, DateTimeOffset now)
    {
        var pending = folder.Pending;
        if (pending is null)
        {
            return null;
        }

        folder.Pending = null;
        folder.LastVersion++;
        if (folder.PendingCounter is { } counter && counter > folder.Counter)
        {
            folder.Counter = counter;
        }

        folder.PendingCounter = null;
        if (pending.IsDelete)
        {
            folder.Committed = null;
            if (folder.IsRoot)
            {
                folder.Users = [];
            }

            return new MetadataVersionRecorded(folder.LastVersion, VersionKinds.Deleted, folder.Counter, "", "", "", user, now);
        }

        // Written by this release, the pending version carries what the commit needs; an older one is read from its text.
        string version;
        IReadOnlyList<string> users;
        if (pending.UserIds is { } known)
        {
            (version, users) = (pending.Version, known);
        }
        else
        {
            var inspected = MetadataDocument.Inspect(pending.Metadata!);
            (version, users) = (inspected.Version, inspected.UserIds);
        }

        var sha = pending.Sha256.Length > 0 ? pending.Sha256 : Sha256(pending.Metadata!);
        folder.Committed = new CommittedMetadata(pending.Metadata ?? "", pending.Signature, version, sha, user, now) { SignatureVerified = pending.SignatureVerified };
        if (folder.IsRoot)
        {
            folder.Users = users.ToList();
        }

        return Recorded(folder, VersionKinds.Committed);
    }

    /// <summary>Drops the pending version and counter (unlock with abort, stale-lock rollback).</summary>
    public static bool Abort(EncryptedFolder folder)
    {
        var hadPending = folder.Pending is not null || folder.PendingCounter is not null;
        folder.Pending = null;
        folder.PendingCounter = null;
        return hadPending;
    }

    /// <summary>Commits metadata at once, without a lock: API 1 create, and filedrop merges.</summary>
    public static MetadataVersionRecorded CommitDirectly(EncryptedFolder folder, string metadata, string signature, string kind, string user, DateTimeOffset now, bool signatureVerified = false)
    {
        var inspected = MetadataDocument.Inspect(metadata);
        folder.LastVersion++;
        folder.Committed = new CommittedMetadata(metadata, signature, inspected.Version, Sha256(metadata), user, now) { SignatureVerified = signatureVerified };
        if (folder.IsRoot)
        {
            folder.Users = inspected.UserIds.ToList();
        }

        return Recorded(folder, kind);
    }

    public static string Sha256(string metadata) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(metadata)));

    private static MetadataVersionRecorded Recorded(EncryptedFolder folder, string kind) =>
        new(folder.LastVersion, kind, folder.Counter, folder.Committed!.Sha256, folder.Committed.Metadata, folder.Committed.Signature, folder.Committed.CommittedBy, folder.Committed.CommittedAt)
        {
            SignatureVerified = folder.Committed.SignatureVerified,
        };
}

public static class VersionKinds
{
    public const string Committed = "committed";
    public const string Deleted = "deleted";
    public const string Filedrop = "filedrop";
    public const string Restored = "restored";
}

/// <summary>One committed version, kept forever in the folder's event stream.</summary>
public sealed record MetadataVersionRecorded(int Number, string Kind, long Counter, string Sha256, string Metadata, string Signature, string CommittedBy, DateTimeOffset CommittedAt)
{
    /// <summary>The signature was checked against a member's certificate when the version was written (older versions: false).</summary>
    public bool SignatureVerified { get; init; }
}
