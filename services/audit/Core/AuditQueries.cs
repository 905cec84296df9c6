using System.Globalization;
using Keyward.AuditTrail;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.Audit.Core;

/// <summary>A query as an auditor states it: every text optional, times ISO-8601, the cursor one this service gave out.</summary>
public sealed record EntryQuery(string? Actor, string? ActionPrefix, string? TargetType, string? TargetId, string? Outcome, string? FromTime, string? ToTime,
    string? Cursor, int PageSize, bool Descending);

public sealed record EntryPage(IReadOnlyList<QueriedEntry> Entries, string? NextCursor);

public sealed record VerifyOutcome(bool Valid, long FromSequence, long ToSequence, long EntriesChecked, long CheckpointsChecked, long FirstBrokenSequence, string Reason);

/// <summary>The caller's own tenant's trail, for auditors and admins: query in pages, verify a range, read the head.</summary>
public sealed class AuditQueries(TenantContext caller, IChainReader chain, ICheckpointKeys checkpointKeys)
{
    public const int MaxPageSize = 1000;

    public async Task<EntryPage> QueryAsync(EntryQuery query, CancellationToken ct)
    {
        var pageSize = query.PageSize switch { <= 0 => 100, > MaxPageSize => MaxPageSize, var n => n };
        long? after = null;
        if (!string.IsNullOrEmpty(query.Cursor))
        {
            after = long.TryParse(query.Cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var cursor) ? cursor : throw Invalid("cursor is not one this service gave out");
        }

        var outcome = query.Outcome switch
        {
            null or "" => null,
            "success" or "denied" or "failed" => query.Outcome,
            _ => throw Invalid("outcome must be success, denied or failed"),
        };
        var filter = new EntryFilter(Text(query.Actor), Text(query.ActionPrefix), Text(query.TargetType), Text(query.TargetId), outcome,
            Time(query.FromTime, "from_time"), Time(query.ToTime, "to_time"), after, pageSize, query.Descending);
        var entries = await chain.QueryAsync(caller.TenantId, filter, ct);
        var next = entries.Count > pageSize ? entries[pageSize - 1].Sequence.ToString(CultureInfo.InvariantCulture) : null;
        return new EntryPage(entries.Take(pageSize).ToList(), next);
    }

    /// <summary>Re-hashes the range from the entry before it and checks every checkpoint's signature in it.</summary>
    public async Task<VerifyOutcome> VerifyAsync(long fromSequence, long toSequence, CancellationToken ct)
    {
        var (headSequence, _) = await chain.HeadAsync(caller.TenantId, ct);
        var from = fromSequence <= 0 ? 1 : fromSequence;
        var to = toSequence <= 0 ? headSequence : Math.Min(toSequence, headSequence);
        if (from > to)
        {
            return new VerifyOutcome(true, from, to, 0, 0, 0, "the range holds no entries");
        }

        var previous = await chain.HashAtAsync(caller.TenantId, from - 1, ct);
        if (previous is null)
        {
            return new VerifyOutcome(false, from, to, 0, 0, from - 1, "the entry before the range is missing");
        }

        var checkpoints = (await chain.CheckpointsAsync(caller.TenantId, from, to, ct)).ToDictionary(c => c.Sequence);
        var key = checkpoints.Count == 0 ? null : await checkpointKeys.PublicKeyPemAsync(ct);
        using var verifier = new ChainVerifier(caller.TenantId, from, previous, key);
        await foreach (var entry in chain.RangeAsync(caller.TenantId, from, to, ct))
        {
            if (!verifier.Entry(entry.Sequence, entry.Canonical, entry.PreviousHash, entry.Hash)
                || checkpoints.TryGetValue(entry.Sequence, out var checkpoint) && !verifier.CheckpointAt(entry.Sequence, verifier.RunningHash, checkpoint.Checkpoint, checkpoint.Signature))
            {
                break;
            }
        }

        if (verifier.Break is { } broken)
        {
            return new VerifyOutcome(false, from, to, verifier.Entries, verifier.Checkpoints, broken.Sequence, broken.Reason);
        }

        return verifier.Entries != to - from + 1
            ? new VerifyOutcome(false, from, to, verifier.Entries, verifier.Checkpoints, from + verifier.Entries, $"entry {from + verifier.Entries} is missing")
            : new VerifyOutcome(true, from, to, verifier.Entries, verifier.Checkpoints, 0, "");
    }

    public async Task<(long Sequence, byte[] Hash, long LastCheckpointSequence)> HeadAsync(CancellationToken ct)
    {
        var (sequence, hash) = await chain.HeadAsync(caller.TenantId, ct);
        var last = await chain.LastCheckpointAsync(caller.TenantId, ct);
        return (sequence, hash, last?.Sequence ?? 0);
    }

    private static string? Text(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static DateTimeOffset? Time(string? value, string name) =>
        string.IsNullOrEmpty(value) ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time
        : throw Invalid($"{name} must be an ISO-8601 time");

    private static Refusal Invalid(string message) => Refusal.Invalid(RefusalReason.QueryInvalid, message);
}
