using Keyward.AuditTrail;

namespace Keyward.Audit.Core;

/// <summary>
/// Turns a batch of events for one tenant into chain entries after the current head: ordered by time
/// (then id), events already chained or repeated in the batch dropped, sequences gap-free.
/// </summary>
public static class ChainAppend
{
    public static IReadOnlyList<ChainEntry> Entries(long headSequence, byte[] headHash, IEnumerable<AuditEvent> events, IReadOnlySet<Guid> alreadyChained)
    {
        var entries = new List<ChainEntry>();
        var seen = new HashSet<Guid>(alreadyChained);
        var previous = headHash;
        var sequence = headSequence;
        foreach (var auditEvent in events.OrderBy(e => e.OccurredAt).ThenBy(e => e.EventId))
        {
            if (!seen.Add(auditEvent.EventId))
            {
                continue;
            }

            var canonical = CanonicalAuditEvent.ToBytes(auditEvent);
            var hash = ChainHash.Next(previous, canonical);
            entries.Add(new ChainEntry(++sequence, auditEvent, canonical, previous, hash));
            previous = hash;
        }

        return entries;
    }
}

public sealed record ChainEntry(long Sequence, AuditEvent Event, byte[] Canonical, byte[] PreviousHash, byte[] Hash);

/// <summary>When a tenant's chain gets a new signed checkpoint (<c>Keyward:Audit:Checkpoints</c>).</summary>
public sealed class CheckpointOptions
{
    public const string Section = "Keyward:Audit:Checkpoints";

    /// <summary>Sign after this many new entries…</summary>
    public int EveryEntries { get; set; } = 1000;

    /// <summary>…or when unsigned entries are this old.</summary>
    public TimeSpan EveryInterval { get; set; } = TimeSpan.FromSeconds(60);

    public static bool IsDue(long headSequence, long lastCheckpointSequence, DateTimeOffset? lastCheckpointAt, DateTimeOffset now, CheckpointOptions options) =>
        headSequence > lastCheckpointSequence
        && (headSequence - lastCheckpointSequence >= options.EveryEntries || lastCheckpointAt is null || now - lastCheckpointAt >= options.EveryInterval);
}
