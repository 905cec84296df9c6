namespace Keyward.Audit.Core;

public sealed record StoredEntry(long Sequence, Guid EventId, byte[] Canonical, byte[] PreviousHash, byte[] Hash);

public sealed record StoredCheckpoint(long Sequence, byte[] Hash, DateTimeOffset SignedAt, byte[] Checkpoint, byte[] Signature, string KeyId);

public sealed record EntryFilter(string? Actor, string? ActionPrefix, string? TargetType, string? TargetId, string? Outcome,
    DateTimeOffset? From, DateTimeOffset? To, long? After, int PageSize, bool Descending);

public sealed record QueriedEntry(long Sequence, Guid EventId, DateTimeOffset OccurredAt, string Action, string Actor, string TargetType, string TargetId,
    string Outcome, string? Reason, string Service, string Event, string Hash);
