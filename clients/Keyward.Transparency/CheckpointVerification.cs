namespace Keyward.Transparency;

/// <summary>
/// What a client accepts as a checkpoint: a signed note whose body is a tree head of the expected origin, signed by
/// the log key the client pins, with at least <see cref="RequiredCosignatures"/> valid cosignatures of the witnesses
/// it trusts. Signature lines of unknown keys are ignored, as the signed-note spec says.
/// </summary>
public sealed class CheckpointPolicy(string origin, INoteVerifier logKey, IReadOnlyList<INoteVerifier>? witnesses = null, int requiredCosignatures = 0)
{
    public string Origin { get; } = origin;

    public INoteVerifier LogKey { get; } = logKey;

    public IReadOnlyList<INoteVerifier> Witnesses { get; } = witnesses ?? [];

    public int RequiredCosignatures { get; } = requiredCosignatures;

    public CheckpointResult Verify(string signedNote)
    {
        if (!SignedNote.TryParse(signedNote, out var note))
        {
            return CheckpointResult.Refused("the checkpoint is not a signed note");
        }

        if (!TreeHead.TryParse(note.Body, out var head))
        {
            return CheckpointResult.Refused("the checkpoint body is not a tlog checkpoint");
        }

        if (head.Origin != Origin)
        {
            return CheckpointResult.Refused($"the checkpoint is of log '{head.Origin}', not '{Origin}'");
        }

        if (!note.Signatures.Any(s => Matches(LogKey, s) && LogKey.Verify(note.Body, s.Signature)))
        {
            return CheckpointResult.Refused("the checkpoint is not signed by the pinned log key");
        }

        var cosigned = Witnesses.Count(w => note.Signatures.Any(s => Matches(w, s) && w.Verify(note.Body, s.Signature)));
        return cosigned < RequiredCosignatures
            ? CheckpointResult.Refused($"the checkpoint has {cosigned} valid witness cosignature(s), {RequiredCosignatures} are required")
            : new CheckpointResult(head, note, null);
    }

    private static bool Matches(INoteVerifier verifier, NoteSignature signature) => signature.Name == verifier.Name && signature.KeyId == verifier.KeyId;
}

public sealed record CheckpointResult(TreeHead? Head, SignedNote? Note, string? Problem)
{
    public bool IsValid => Head is not null;

    public static CheckpointResult Refused(string problem) => new(null, null, problem);
}

/// <summary>
/// The newest tree head a client has verified for one log, and the rule that keeps it honest: a new head is
/// accepted only with a consistency proof from the one before (the log only ever grew), so a fork or a
/// rewritten history is refused however well it is signed.
/// </summary>
public sealed record TrustedHead(long Size, byte[] RootHash)
{
    public static TrustedHead Empty { get; } = new(0, MerkleHash.EmptyRoot);

    /// <summary>The newer of the two heads when <paramref name="proof"/> shows <paramref name="next"/> extends this one; null if it does not.</summary>
    public TrustedHead? Advance(TreeHead next, IReadOnlyList<byte[]> proof)
    {
        if (next.Size < Size)
        {
            // An older head is fine to check a proof against only if it is consistent with ours, the other way round.
            return ProofVerifier.VerifyConsistency(next.Size, Size, next.RootHash, RootHash, proof) ? this : null;
        }

        return ProofVerifier.VerifyConsistency(Size, next.Size, RootHash, next.RootHash, proof) ? new TrustedHead(next.Size, next.RootHash) : null;
    }
}
