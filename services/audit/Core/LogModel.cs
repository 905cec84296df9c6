using Keyward.AuditTrail;

namespace Keyward.Audit.Core;

/// <summary>A log's head: its size, root and the compact range's edge (enough to append without reading the tree).</summary>
public sealed record LogState(long Size, byte[] Root, byte[] Edge);

/// <summary>The copies of a leaf's fields kept in columns for filtering; verify checks them against the leaf.</summary>
public sealed record LeafColumns(DateTimeOffset OccurredAt, string Action, string Actor, string TargetType, string TargetId, string Outcome, string Service);

public sealed record NewLeaf(Guid EventId, byte[] Data, LeafColumns Columns);

/// <summary>A stored leaf, with the leaf hash stored beside it (level 0 of the tree; null when missing).</summary>
public sealed record StoredLeaf(long Index, Guid EventId, byte[] Data, LeafColumns Columns, byte[]? StoredHash);

public sealed record StoredCheckpoint(long Size, string Note, DateTimeOffset SignedAt);

public sealed record EntryFilter(string? Actor, string? ActionPrefix, string? TargetType, string? TargetId, string? Outcome,
    DateTimeOffset? From, DateTimeOffset? To, long? After, int PageSize, bool Descending);

/// <summary>An audit entry as served: every field read from the leaf, none from the filter columns.</summary>
public sealed record QueriedEntry(long Sequence, Guid EventId, DateTimeOffset OccurredAt, string Action, string Actor, string TargetType, string TargetId,
    string Outcome, string? Reason, string Service, string Event, string Hash);

/// <summary>What the leaves of each log are made of.</summary>
public static class Leaves
{
    public static NewLeaf Audit(AuditEvent e) => new(e.EventId, CanonicalAuditEvent.ToBytes(e), Columns(e));

    public static NewLeaf? Identity(AuditEvent e) => IdentityEntry.From(e) is { } entry
        ? new NewLeaf(e.EventId, entry.ToBytes(), new LeafColumns(entry.OccurredAt, entry.Action, entry.Actor, "user", entry.User, "success", e.Service))
        : null;

    public static LeafColumns Columns(AuditEvent e) => new(e.OccurredAt, e.Action, e.Actor.UserId, e.Target.Type, e.Target.Id, e.Outcome.Result, e.Service);

    /// <summary>The columns a leaf's own bytes imply, or null when the bytes are not a canonical leaf of that log.</summary>
    public static LeafColumns? ColumnsOf(string log, byte[] data) => log switch
    {
        LogOrigins.AuditLog => CanonicalAuditEventReader.TryParse(data, out var e) ? Columns(e) : null,
        LogOrigins.KeysLog => IdentityEntry.TryParse(data, out var entry)
            ? new LeafColumns(entry.OccurredAt, entry.Action, entry.Actor, "user", entry.User, "success", "")
            : null,
        _ => null,
    };

    /// <summary>
    /// Columns agree with the leaf (the keys log's service column is the publisher's, not in the leaf; PostgreSQL keeps
    /// times to the microsecond, the leaf to 100 ns).
    /// </summary>
    public static bool Agree(string log, LeafColumns stored, LeafColumns fromLeaf) =>
        stored.OccurredAt.UtcTicks / 10 == fromLeaf.OccurredAt.UtcTicks / 10 && stored.Action == fromLeaf.Action && stored.Actor == fromLeaf.Actor && stored.TargetType == fromLeaf.TargetType
        && stored.TargetId == fromLeaf.TargetId && stored.Outcome == fromLeaf.Outcome && (log == LogOrigins.KeysLog || stored.Service == fromLeaf.Service);
}
