using Keyward.AuditTrail;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Keyward.Transparency;

namespace Keyward.Audit.Core;

public sealed record InclusionProof(long Index, long TreeSize, byte[] LeafHash, IReadOnlyList<byte[]> Hashes, string Checkpoint);

public sealed record ConsistencyProof(long From, long To, IReadOnlyList<byte[]> Hashes, string Checkpoint);

/// <summary>
/// The caller's tenant's logs as a client checks them: the newest signed checkpoint (with the witnesses'
/// cosignatures), inclusion proofs of a leaf and consistency proofs between two signed sizes. Proofs are always
/// against a signed checkpoint, so what a client verifies is what the HSM key vouched for.
/// </summary>
public sealed class LogProofs(TenantContext caller, ILogReader logs)
{
    /// <summary>The newest checkpoint with its cosignatures, or null before the first one.</summary>
    public async Task<(long Size, string Note)?> CheckpointAsync(string log, CancellationToken ct)
    {
        var last = await logs.CosignedCheckpointAsync(caller.TenantId, log, null, ct);
        return last is null ? null : (last.Size, last.Note);
    }

    public async Task<InclusionProof> InclusionAsync(string log, long index, long? size, CancellationToken ct)
    {
        var checkpoint = await SignedAsync(log, size, ct);
        if (index < 0 || index >= checkpoint.Size)
        {
            throw Refusal.NotFound(RefusalReason.QueryInvalid, $"leaf {index} is not in the signed tree of size {checkpoint.Size} (a new leaf is signed within a second)");
        }

        var (leaf, hashes) = await MerkleProofs.InclusionWithLeafAsync(logs.Nodes(caller.TenantId, log), index, checkpoint.Size, ct);
        return new InclusionProof(index, checkpoint.Size, leaf, hashes, checkpoint.Note);
    }

    public async Task<ConsistencyProof> ConsistencyAsync(string log, long from, long? to, CancellationToken ct)
    {
        var checkpoint = await SignedAsync(log, to, ct);
        if (from < 0 || from > checkpoint.Size)
        {
            throw Refusal.Invalid(RefusalReason.QueryInvalid, $"from must be between 0 and the signed size {checkpoint.Size}");
        }

        var hashes = await MerkleProofs.ConsistencyAsync(logs.Nodes(caller.TenantId, log), from, checkpoint.Size, ct);
        return new ConsistencyProof(from, checkpoint.Size, hashes, checkpoint.Note);
    }

    /// <summary>The checkpoint a proof is against, its note already carrying the cosignatures (one read).</summary>
    private async Task<StoredCheckpoint> SignedAsync(string log, long? size, CancellationToken ct) =>
        await logs.CosignedCheckpointAsync(caller.TenantId, log, size, ct)
        ?? throw Refusal.NotFound(RefusalReason.QueryInvalid, size is null ? "the log has no signed checkpoint yet" : $"no checkpoint was signed at size {size}");
}

/// <summary>
/// Key transparency for the caller's tenant: every identity event of a user (certificate issued, re-issued,
/// deleted, private key set, escrow released, device enrolled) with an inclusion proof against the signed
/// checkpoint, and the tenant-wide recovery-key events (user "").
/// </summary>
public sealed class KeyTransparency(TenantContext caller, ILogReader logs, LogProofs proofs)
{
    public const int MaxEntries = 1000;

    public sealed record UserEntry(long Index, string Entry, IReadOnlyList<byte[]> Hashes);

    public async Task<(long TreeSize, string Checkpoint, IReadOnlyList<UserEntry> Entries)> EntriesOfAsync(string user, long after, CancellationToken ct)
    {
        if (user.Length > 256)
        {
            throw Refusal.Invalid(RefusalReason.QueryInvalid, "a user id has at most 256 characters");
        }

        var checkpoint = await proofs.CheckpointAsync(LogOrigins.KeysLog, ct)
            ?? throw Refusal.NotFound(RefusalReason.QueryInvalid, "the key-transparency log has no signed checkpoint yet");
        var found = await logs.QueryAsync(caller.TenantId, LogOrigins.KeysLog,
            new EntryFilter(null, null, "user", user, null, null, null, after < 0 ? null : after, MaxEntries, false), ct);
        var nodes = logs.Nodes(caller.TenantId, LogOrigins.KeysLog);
        var entries = new List<UserEntry>();
        foreach (var leaf in found.Where(l => l.Index < checkpoint.Size).Take(MaxEntries))
        {
            entries.Add(new UserEntry(leaf.Index, System.Text.Encoding.UTF8.GetString(leaf.Data), await MerkleProofs.InclusionAsync(nodes, leaf.Index, checkpoint.Size, ct)));
        }

        return (checkpoint.Size, checkpoint.Note, entries);
    }
}
