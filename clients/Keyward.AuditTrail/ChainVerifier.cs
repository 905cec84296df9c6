using System.Security.Cryptography;

namespace Keyward.AuditTrail;

/// <summary>
/// Walks a stretch of a tenant's chain in order and finds the first entry that does not hold: a gap, a
/// previous hash that is not the one before, a hash that is not SHA-256(previous ‖ canonical bytes), or a
/// checkpoint whose signature or hash does not match. Used by the audit service and the offline verifier.
/// </summary>
public sealed class ChainVerifier : IDisposable
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _running = new byte[ChainHash.Size];
    private readonly byte[] _computed = new byte[ChainHash.Size];
    private readonly string? _checkpointKeyPem;
    private readonly string _tenantId;
    private long _expected;

    public ChainVerifier(string tenantId, long fromSequence, ReadOnlySpan<byte> previousHash, string? checkpointKeyPem)
    {
        _tenantId = tenantId;
        _expected = fromSequence;
        previousHash.CopyTo(_running);
        _checkpointKeyPem = checkpointKeyPem;
    }

    public long Entries { get; private set; }

    public long Checkpoints { get; private set; }

    public long LastCheckpointSequence { get; private set; }

    public ChainBreak? Break { get; private set; }

    /// <summary>Checks the next entry; returns false (and sets <see cref="Break"/>) at the first problem.</summary>
    public bool Entry(long sequence, ReadOnlySpan<byte> canonicalEvent, ReadOnlySpan<byte> storedPreviousHash, ReadOnlySpan<byte> storedHash)
    {
        if (Break is not null)
        {
            return false;
        }

        if (sequence != _expected)
        {
            return Fail(_expected, $"entry {_expected} is missing (found {sequence})");
        }

        if (!storedPreviousHash.SequenceEqual(_running))
        {
            return Fail(sequence, "its previous hash is not the hash of the entry before it");
        }

        ChainHash.Next(_running, canonicalEvent, _sha256, _computed);
        if (!storedHash.SequenceEqual(_computed))
        {
            return Fail(sequence, "its hash does not match its content");
        }

        _computed.CopyTo(_running, 0);
        _expected++;
        Entries++;
        return true;
    }

    /// <summary>Checks a checkpoint at the entry just verified (or earlier in this stretch).</summary>
    public bool CheckpointAt(long sequence, ReadOnlySpan<byte> hashAtSequence, byte[] checkpointBytes, byte[] signature)
    {
        if (Break is not null)
        {
            return false;
        }

        if (!Checkpoint.TryParse(checkpointBytes, out var checkpoint) || checkpoint.TenantId != _tenantId || checkpoint.Sequence != sequence)
        {
            return Fail(sequence, "the checkpoint is malformed or names another tenant or sequence");
        }

        if (_checkpointKeyPem is null || !Checkpoint.VerifySignature(checkpointBytes, signature, _checkpointKeyPem))
        {
            return Fail(sequence, "the checkpoint signature does not verify with the tenant's checkpoint key");
        }

        if (!checkpoint.Hash.AsSpan().SequenceEqual(hashAtSequence))
        {
            return Fail(sequence, "the chain's hash differs from the signed checkpoint");
        }

        Checkpoints++;
        LastCheckpointSequence = Math.Max(LastCheckpointSequence, sequence);
        return true;
    }

    /// <summary>The hash after the last verified entry.</summary>
    public ReadOnlySpan<byte> RunningHash => _running;

    private bool Fail(long sequence, string reason)
    {
        Break = new ChainBreak(sequence, reason);
        return false;
    }

    public void Dispose() => _sha256.Dispose();
}

public sealed record ChainBreak(long Sequence, string Reason);
