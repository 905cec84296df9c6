using System.Globalization;
using System.Text;
using Keyward.AuditTrail;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Keyward.Transparency;

namespace Keyward.Audit.Core;

/// <summary>A query as an auditor states it: every text optional, times ISO-8601, the cursor one this service gave out.</summary>
public sealed record EntryQuery(string? Actor, string? ActionPrefix, string? TargetType, string? TargetId, string? Outcome, string? FromTime, string? ToTime,
    string? Cursor, int PageSize, bool Descending);

public sealed record EntryPage(IReadOnlyList<QueriedEntry> Entries, string? NextCursor);

public sealed record VerifyOutcome(bool Valid, long FromSequence, long ToSequence, long EntriesChecked, long CheckpointsChecked, long FirstBrokenSequence, string Reason,
    string KeyFingerprint, bool KeyPinned);

/// <summary><c>Keyward:Audit:PinnedLogKeys</c>: tenant → the SHA-256 fingerprint of its log key that verify trusts.</summary>
public sealed class PinnedLogKeys
{
    public const string Section = "Keyward:Audit:PinnedLogKeys";

    public Dictionary<string, string> Tenants { get; set; } = [];
}

/// <summary>The caller's own tenant's audit trail, for auditors and admins: query in pages, verify, read the head.</summary>
public sealed class AuditQueries(TenantContext caller, ILogReader logs, ILogKeys keys, PinnedLogKeys pins, TransparencyOptions transparency)
{
    public const int MaxPageSize = 1000;

    private const string Log = LogOrigins.AuditLog;

    public async Task<EntryPage> QueryAsync(EntryQuery query, CancellationToken ct)
    {
        var pageSize = query.PageSize switch { <= 0 => 100, > MaxPageSize => MaxPageSize, var n => n };
        long? after = null;
        if (!string.IsNullOrEmpty(query.Cursor))
        {
            after = long.TryParse(query.Cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var cursor) ? cursor - 1 : throw Invalid("cursor is not one this service gave out");
        }

        var outcome = query.Outcome switch
        {
            null or "" => null,
            "success" or "denied" or "failed" => query.Outcome,
            _ => throw Invalid("outcome must be success, denied or failed"),
        };
        var filter = new EntryFilter(Text(query.Actor), Text(query.ActionPrefix), Text(query.TargetType), Text(query.TargetId), outcome,
            Time(query.FromTime, "from_time"), Time(query.ToTime, "to_time"), after, pageSize, query.Descending);
        var leaves = await logs.QueryAsync(caller.TenantId, Log, filter, ct);
        var entries = leaves.Take(pageSize).Select(Served).ToList();
        var next = leaves.Count > pageSize ? entries[^1].Sequence.ToString(CultureInfo.InvariantCulture) : null;
        return new EntryPage(entries, next);
    }

    /// <summary>
    /// Re-hashes the log over the range (default: all of it): every leaf against its stored hash and its filter columns, the
    /// root at every stored checkpoint against that checkpoint (signed by the log key, pinned when configured or
    /// asked), the head against the leaves, and finally the newest head the CA signed — which the CA keeps in its
    /// own database, so removing the tail or moving the state back here is found even with the checkpoints gone.
    /// Entry n (sequence) is leaf n-1.
    /// </summary>
    public async Task<VerifyOutcome> VerifyAsync(long fromSequence, long toSequence, string? pinnedFingerprint, CancellationToken ct)
    {
        var origin = LogOrigins.For(transparency.OriginPrefix, caller.TenantId, Log);
        var keyPem = await keys.PublicKeyPemAsync(ct);
        var key = EcdsaNoteVerifier.FromPem(origin, keyPem);
        var pin = Text(pinnedFingerprint) ?? (pins.Tenants.TryGetValue(caller.TenantId, out var configured) ? configured : null);
        VerifyOutcome Outcome(bool valid, long from, long to, long entries, long checkpoints, long broken, string reason) =>
            new(valid, from, to, entries, checkpoints, broken, reason, key.Fingerprint, pin is not null);

        var head = await logs.HeadAsync(caller.TenantId, Log, ct) ?? new LogState(0, MerkleHash.EmptyRoot, []);
        var first = fromSequence <= 0 ? 1 : fromSequence;
        var last = toSequence <= 0 ? head.Size : Math.Min(toSequence, head.Size);
        if (pin is not null && !string.Equals(pin.Trim(), key.Fingerprint, StringComparison.OrdinalIgnoreCase))
        {
            return Outcome(false, first, last, 0, 0, 0, $"the log key {key.Fingerprint} is not the pinned key {pin}");
        }

        var policy = new CheckpointPolicy(origin, key);
        var checkpoints = (await logs.CheckpointsAsync(caller.TenantId, Log, 1, long.MaxValue, ct)).ToDictionary(c => c.Size);
        var roots = new Dictionary<long, byte[]>();
        var caNote = await keys.LatestSignedAsync(origin, ct);
        var caHead = caNote is null ? null : policy.Verify(caNote);
        if (caHead is { IsValid: false })
        {
            return Outcome(false, first, last, 0, 0, 0, $"the CA's newest checkpoint does not verify: {caHead.Problem}");
        }

        // A range starts from the tree's edge before it (read from the stored nodes; a lie there shows as a root no signature covers).
        var start = Math.Min(first - 1, last);
        var edge = CompactRange.EdgeOf(start).ToList();
        var edgeHashes = edge.Count == 0 ? new Dictionary<NodeId, byte[]>() : await logs.Nodes(caller.TenantId, Log).ReadAsync(edge, ct);
        if (edge.Any(n => !edgeHashes.ContainsKey(n)))
        {
            return Outcome(false, first, last, 0, 0, first, "the tree nodes before the range are missing");
        }

        var tree = CompactRange.FromBytes(start, edge.SelectMany(n => edgeHashes[n]).ToArray());
        long checkedCheckpoints = 0;
        await foreach (var leaf in logs.LeavesAsync(caller.TenantId, Log, start, last, ct))
        {
            var sequence = leaf.Index + 1;
            if (leaf.Index != tree.Size)
            {
                return Outcome(false, first, last, tree.Size - start, checkedCheckpoints, tree.Size + 1, $"entry {tree.Size + 1} is missing");
            }

            var leafHash = MerkleHash.Leaf(leaf.Data);
            if (leaf.StoredHash is null || !leafHash.AsSpan().SequenceEqual(leaf.StoredHash))
            {
                return Outcome(false, first, last, tree.Size - start, checkedCheckpoints, sequence, "its content does not match its leaf hash in the tree");
            }

            if (Leaves.ColumnsOf(Log, leaf.Data) is not { } columns || !Leaves.Agree(Log, leaf.Columns, columns))
            {
                return Outcome(false, first, last, tree.Size - start, checkedCheckpoints, sequence, "a served column differs from the entry's leaf");
            }

            tree.Append(leafHash);
            if (checkpoints.TryGetValue(tree.Size, out var checkpoint))
            {
                var result = policy.Verify(checkpoint.Note);
                if (!result.IsValid || result.Head!.Size != tree.Size || !result.Head.RootHash.AsSpan().SequenceEqual(tree.Root()))
                {
                    return Outcome(false, first, last, tree.Size - start, checkedCheckpoints, sequence,
                        result.IsValid ? $"the entries up to {sequence} do not hash to the root signed for size {tree.Size}" : result.Problem!);
                }

                checkedCheckpoints++;
            }

            if (caHead?.Head is { } signed && signed.Size == tree.Size && !signed.RootHash.AsSpan().SequenceEqual(tree.Root()))
            {
                return Outcome(false, first, last, tree.Size - start, checkedCheckpoints, sequence, $"the entries up to {sequence} do not hash to the root the CA signed for size {signed.Size}");
            }
        }

        var entries = tree.Size - start;
        if (tree.Size != last)
        {
            return Outcome(false, first, last, entries, checkedCheckpoints, tree.Size + 1, $"entry {tree.Size + 1} is missing");
        }

        if (last == head.Size && !tree.Root().AsSpan().SequenceEqual(head.Root))
        {
            return Outcome(false, first, last, entries, checkedCheckpoints, head.Size, "the log's head does not match its entries");
        }

        if (caHead?.Head is { } newest && newest.Size > head.Size)
        {
            return Outcome(false, first, last, entries, checkedCheckpoints, head.Size + 1,
                $"the CA signed {newest.Size} entries, the log holds {head.Size}: entries were removed or the log's state moved back");
        }

        return Outcome(true, first, last, entries, checkedCheckpoints, 0, "");
    }

    public async Task<(long Sequence, byte[] Root, long LastCheckpointSequence)> HeadAsync(CancellationToken ct)
    {
        var head = await logs.HeadAsync(caller.TenantId, Log, ct);
        var last = await logs.LastCheckpointAsync(caller.TenantId, Log, ct);
        return (head?.Size ?? 0, head?.Root ?? MerkleHash.EmptyRoot, last?.Size ?? 0);
    }

    /// <summary>An entry as served, read from its leaf alone.</summary>
    public static QueriedEntry Served(StoredLeaf leaf)
    {
        var hash = Convert.ToHexStringLower(MerkleHash.Leaf(leaf.Data));
        var text = Encoding.UTF8.GetString(leaf.Data);
        if (!CanonicalAuditEventReader.TryParse(leaf.Data, out var e))
        {
            // Served as found, so a damaged leaf shows instead of vanishing; verify names it.
            return new QueriedEntry(leaf.Index + 1, leaf.EventId, leaf.Columns.OccurredAt, "", "", "", "", "", "the stored leaf is not a canonical audit event", "", text, hash);
        }

        return new QueriedEntry(leaf.Index + 1, e.EventId, e.OccurredAt, e.Action, e.Actor.UserId, e.Target.Type, e.Target.Id, e.Outcome.Result, e.Outcome.Reason, e.Service, text, hash);
    }

    private static string? Text(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static DateTimeOffset? Time(string? value, string name) =>
        string.IsNullOrEmpty(value) ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time
        : throw Invalid($"{name} must be an ISO-8601 time");

    private static Refusal Invalid(string message) => Refusal.Invalid(RefusalReason.QueryInvalid, message);
}
