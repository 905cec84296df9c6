using System.Text;
using Keyward.Transparency;

namespace Keyward.AuditTrail;

/// <summary>A user's key-transparency entries as the log serves them: each with an inclusion proof against the checkpoint.</summary>
public sealed record IdentityProofs(string User, long TreeSize, string Checkpoint, IReadOnlyList<IdentityProofs.Entry> Entries)
{
    public sealed record Entry(long Index, string Text, IReadOnlyList<byte[]> Hashes);
}

/// <summary>The outcome: trusted or why not, the head the device may now trust, the entries checked and the last one's index (-1: none).</summary>
public sealed record IdentityVerdict(bool Trusted, string? Problem, TrustedHead? Head, IReadOnlyList<IdentityEntry> Entries, long LastIndex = -1)
{
    /// <summary>The log index of each of <see cref="Entries"/>.</summary>
    public IReadOnlyList<long> Indexes { get; init; } = [];

    public static IdentityVerdict Refused(string problem) => new(false, problem, null, []);

    /// <summary>A problem that time may cure: the log does not list this certificate (yet), but the log itself is sound.</summary>
    public bool MayBePending => !Trusted && Head is not null;
}

/// <summary>
/// What a client checks before it uses anyone's certificate (its own or a colleague's it shares with): the
/// checkpoint is signed by the pinned log key, it extends the newest one this device saw (else the server shows
/// different devices different histories — a fork), every entry is in the signed tree, and the newest certificate
/// entry for the user names exactly this certificate. Anything less and the certificate is refused.
/// </summary>
public static class IdentityCheck
{
    private static readonly HashSet<string> CertificateActions = ["keys.certificate.issued", "keys.certificate.stored", "keys.certificate.reissued", "keys.certificate.deleted"];

    public static IdentityVerdict Verify(CheckpointPolicy policy, TrustedHead seen, IReadOnlyList<byte[]> consistency, IdentityProofs proofs, string certificateFingerprint)
    {
        var checkpoint = policy.Verify(proofs.Checkpoint);
        if (!checkpoint.IsValid)
        {
            return IdentityVerdict.Refused(checkpoint.Problem!);
        }

        var head = checkpoint.Head!;
        if (head.Size != proofs.TreeSize)
        {
            return IdentityVerdict.Refused($"the proofs are for a tree of {proofs.TreeSize} entries, the checkpoint has {head.Size}");
        }

        if (seen.Advance(head, consistency) is not { } advanced)
        {
            return IdentityVerdict.Refused($"the key-transparency log forked: its checkpoint of size {head.Size} is not consistent with size {seen.Size} this device saw before");
        }

        var entries = new List<IdentityEntry>();
        foreach (var proof in proofs.Entries)
        {
            var bytes = Encoding.UTF8.GetBytes(proof.Text);
            if (!IdentityEntry.TryParse(bytes, out var entry) || entry.User != proofs.User)
            {
                return IdentityVerdict.Refused($"entry {proof.Index} is not an identity entry of {proofs.User}");
            }

            if (!ProofVerifier.VerifyInclusion(MerkleHash.Leaf(bytes), proof.Index, head.Size, proof.Hashes, head.RootHash))
            {
                return IdentityVerdict.Refused($"entry {proof.Index} of {proofs.User} has no valid inclusion proof in the signed tree");
            }

            entries.Add(entry);
        }

        var last = proofs.Entries.Count == 0 ? -1 : proofs.Entries[^1].Index;
        var current = entries.LastOrDefault(e => CertificateActions.Contains(e.Action));
        if (current is null || current.Action == "keys.certificate.deleted")
        {
            return new IdentityVerdict(false, $"the key-transparency log lists no current certificate for {proofs.User}", advanced, entries, last) { Indexes = proofs.Entries.Select(e => e.Index).ToList() };
        }

        return string.Equals(current.Subject, certificateFingerprint, StringComparison.OrdinalIgnoreCase)
            ? new IdentityVerdict(true, null, advanced, entries, last) { Indexes = proofs.Entries.Select(e => e.Index).ToList() }
            : new IdentityVerdict(false, $"the certificate served for {proofs.User} ({certificateFingerprint[..Math.Min(16, certificateFingerprint.Length)]}…) is not the one the key-transparency log lists ({current.Subject[..Math.Min(16, current.Subject.Length)]}…)", advanced, entries, last) { Indexes = proofs.Entries.Select(e => e.Index).ToList() };
    }
}
