namespace Keyward.Metadata.Core;

/// <summary>
/// A folder marked end-to-end encrypted (Nextcloud file id), with its committed metadata, the pending
/// version written under a lock, and the counter that protects against rollback (reference §b).
/// </summary>
public sealed class EncryptedFolder
{
    public string Id { get; set; } = "";

    public string RootId { get; set; } = "";

    public string? ParentId { get; set; }

    /// <summary>From the root down to the parent; empty for a root.</summary>
    public List<string> AncestorIds { get; set; } = [];

    /// <summary>The owner of the encrypted tree (the user who marked the root).</summary>
    public string OwnerId { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public CommittedMetadata? Committed { get; set; }

    public PendingMetadata? Pending { get; set; }

    /// <summary>The stored counter: only grows, and only when a commit under a lock carries a new one.</summary>
    public long Counter { get; set; }

    /// <summary>The counter sent with the lock; becomes <see cref="Counter"/> when that lock commits metadata.</summary>
    public long? PendingCounter { get; set; }

    /// <summary>Roots only: the user ids listed in the committed v2 metadata, who may read and lock the tree.</summary>
    public List<string> Users { get; set; } = [];

    /// <summary>Number of the last committed version (versions are numbered from 1 per folder).</summary>
    public int LastVersion { get; set; }

    public bool IsRoot => ParentId is null;

    public int Depth => AncestorIds.Count;

    /// <summary>A copy sharing the (immutable) metadata records, for a store that persists it in another shape.</summary>
    public EncryptedFolder ShallowCopy() => (EncryptedFolder)MemberwiseClone();

    /// <summary>The folder and its ancestors: what a lock anywhere on it covers.</summary>
    public IEnumerable<string> PathToRoot => AncestorIds.Append(Id);
}

public sealed record CommittedMetadata(string Metadata, string Signature, string Version, string Sha256, string CommittedBy, DateTimeOffset CommittedAt)
{
    /// <summary>Whether the server checked the signature against a member's certificate (false for 1.x and for audit-only tenants' failures).</summary>
    public bool SignatureVerified { get; init; }
}

/// <summary>Metadata written under a lock, visible only after the unlock commits it. <c>Metadata</c> null is a pending delete.</summary>
public sealed record PendingMetadata(string? Metadata, string Signature, string Token, string WrittenBy, DateTimeOffset WrittenAt, bool SignatureVerified = false)
{
    /// <summary>SHA-256 (hex) of the pending text; empty for a pending delete.</summary>
    public string Sha256 { get; init; } = "";

    /// <summary>What the unlock needs of the text (its version and a root's users), read at write time so the unlock need not read the text.</summary>
    public string Version { get; init; } = "";

    public IReadOnlyList<string>? UserIds { get; init; }

    /// <summary>A pending delete has no text and no hash (a write whose text was not loaded has its hash).</summary>
    public bool IsDelete => Metadata is null && Sha256.Length == 0;
}
