using System.Security.Cryptography;
using System.Text;
using Keyward.AuditTrail;
using Keyward.Tests.Shared;
using Keyward.Transparency;

namespace Keyward.UnitTests.Transparency;

/// <summary>A device deciding whether to use a certificate, against a server that lies in every way it can.</summary>
public sealed class IdentityCheckTests
{
    private const string Origin = "keyward.test/acme/keys";
    private static readonly ECDsa LogKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly CheckpointPolicy Policy = new(Origin, new EcdsaNoteVerifier(Origin, LogKey.ExportSubjectPublicKeyInfo()));

    private sealed class Log
    {
        public List<byte[]> Leaves { get; } = [];

        public MemoryNodes Nodes { get; } = new();

        private readonly CompactRange _tree = new();

        public long Add(IdentityEntry entry)
        {
            Leaves.Add(entry.ToBytes());
            _tree.Append(MerkleHash.Leaf(entry.ToBytes()), (n, h) => Nodes.All[n] = h);
            return _tree.Size - 1;
        }

        public TreeHead Head => new(Origin, _tree.Size, _tree.Root());

        public string Checkpoint(ECDsa? key = null)
        {
            var body = Head.ToBody();
            var signer = key ?? LogKey;
            var signature = signer.SignData(Encoding.UTF8.GetBytes(body), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            return new SignedNote(body, [new NoteSignature(Origin, EcdsaNoteVerifier.KeyIdOf(signer.ExportSubjectPublicKeyInfo()), signature)]).ToString();
        }

        public async Task<IdentityProofs> ProofsAsync(string user, string? checkpoint = null)
        {
            var entries = new List<IdentityProofs.Entry>();
            for (var i = 0; i < Leaves.Count; i++)
            {
                if (IdentityEntry.TryParse(Leaves[i], out var e) && e.User == user)
                {
                    entries.Add(new IdentityProofs.Entry(i, Encoding.UTF8.GetString(Leaves[i]), await MerkleProofs.InclusionAsync(Nodes, i, Leaves.Count, default)));
                }
            }

            return new IdentityProofs(user, Leaves.Count, checkpoint ?? Checkpoint(), entries);
        }
    }

    private static IdentityEntry Issued(string user, string fingerprint, string action = "keys.certificate.issued") =>
        new(action, user, Guid.CreateVersion7(), DateTimeOffset.UtcNow, fingerprint, "acme", user);

    [Fact]
    public async Task The_certificate_the_log_lists_is_trusted_and_the_device_head_advances()
    {
        var log = new Log();
        log.Add(Issued("bob", "b0b1"));
        log.Add(Issued("alice", "a11ce"));

        var verdict = IdentityCheck.Verify(Policy, TrustedHead.Empty, [], await log.ProofsAsync("bob"), "b0b1");

        Assert.True(verdict.Trusted, verdict.Problem);
        Assert.Equal(2, verdict.Head!.Size);
        Assert.Equal([0L], verdict.Indexes);
    }

    [Fact]
    public async Task A_certificate_the_server_swapped_in_is_refused_and_so_is_one_the_log_never_saw()
    {
        var log = new Log();
        log.Add(Issued("bob", "b0b1"));

        Assert.StartsWith("the certificate served for bob", IdentityCheck.Verify(Policy, TrustedHead.Empty, [], await log.ProofsAsync("bob"), "5ea1").Problem);
        Assert.Equal("the key-transparency log lists no current certificate for carol", IdentityCheck.Verify(Policy, TrustedHead.Empty, [], await log.ProofsAsync("carol"), "ca401").Problem);
        log.Add(Issued("bob", "", "keys.certificate.deleted"));
        Assert.False(IdentityCheck.Verify(Policy, TrustedHead.Empty, [], await log.ProofsAsync("bob"), "b0b1").Trusted);
    }

    [Fact]
    public async Task An_entry_without_a_valid_proof_a_foreign_signature_or_a_fork_is_refused()
    {
        var log = new Log();
        log.Add(Issued("bob", "b0b1"));
        log.Add(Issued("alice", "a11ce"));
        var proofs = await log.ProofsAsync("bob");

        var noProof = proofs with { Entries = [proofs.Entries[0] with { Hashes = [] }] };
        Assert.Equal("entry 0 of bob has no valid inclusion proof in the signed tree", IdentityCheck.Verify(Policy, TrustedHead.Empty, [], noProof, "b0b1").Problem);
        var otherKey = await log.ProofsAsync("bob", log.Checkpoint(ECDsa.Create(ECCurve.NamedCurves.nistP256)));
        Assert.Equal("the checkpoint is not signed by the pinned log key", IdentityCheck.Verify(Policy, TrustedHead.Empty, [], otherKey, "b0b1").Problem);

        // The device saw this honest log at size 2; the server now shows it a signed fork that rewrote alice's entry.
        var seen = new TrustedHead(2, log.Head.RootHash);
        var fork = new Log();
        fork.Add(Issued("bob", "b0b1"));
        fork.Add(Issued("alice", "f0r9ed"));
        fork.Add(Issued("carol", "ca401"));
        var forkProofs = await fork.ProofsAsync("bob");
        var consistency = await MerkleProofs.ConsistencyAsync(fork.Nodes, 2, 3, default);
        Assert.StartsWith("the key-transparency log forked", IdentityCheck.Verify(Policy, seen, consistency, forkProofs, "b0b1").Problem);

        log.Add(Issued("carol", "ca401"));
        var honest = await MerkleProofs.ConsistencyAsync(log.Nodes, 2, 3, default);
        Assert.True(IdentityCheck.Verify(Policy, seen, honest, await log.ProofsAsync("bob"), "b0b1").Trusted);
    }
}
