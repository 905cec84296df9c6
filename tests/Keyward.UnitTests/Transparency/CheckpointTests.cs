using System.Security.Cryptography;
using System.Text;
using Keyward.Tests.Shared;
using Keyward.Transparency;

namespace Keyward.UnitTests.Transparency;

public sealed class CheckpointTests
{
    private const string Origin = "keyward.test/acme/audit";

    private static readonly ECDsa LogKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private static EcdsaNoteVerifier LogVerifier => new(Origin, LogKey.ExportSubjectPublicKeyInfo());

    private static string Signed(TreeHead head, ECDsa? key = null)
    {
        var body = head.ToBody();
        var signer = key ?? LogKey;
        var signature = signer.SignData(Encoding.UTF8.GetBytes(body), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new SignedNote(body, [new NoteSignature(Origin, EcdsaNoteVerifier.KeyIdOf(signer.ExportSubjectPublicKeyInfo()), signature)]).ToString();
    }

    [Fact]
    public void A_checkpoint_is_the_c2sp_text_and_parses_back_to_itself()
    {
        var head = new TreeHead(Origin, 20852163, Convert.FromBase64String("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="));

        Assert.Equal("keyward.test/acme/audit\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", head.ToBody());
        Assert.True(TreeHead.TryParse(head.ToBody(), out var parsed));
        Assert.Equal(head.ToBody(), parsed.ToBody());
    }

    [Theory]
    [InlineData("keyward.test/acme/audit\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    [InlineData("keyward.test/acme/audit\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    [InlineData("keyward.test/acme/audit\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n")]
    [InlineData("keyward.test/acme/audit\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")]
    [InlineData("keyward test\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    [InlineData("keyward.test\n12\n\n")]
    public void Malformed_checkpoints_are_refused(string body) => Assert.False(TreeHead.TryParse(body, out _));

    [Fact]
    public void The_policy_takes_only_the_pinned_log_key_the_right_origin_and_enough_witnesses()
    {
        var head = new TreeHead(Origin, 5, RandomNumberGenerator.GetBytes(32));
        var note = Signed(head);
        var witness = new Cosigner("witness.test/w1", Cosigner.NewSeed());

        Assert.True(new CheckpointPolicy(Origin, LogVerifier).Verify(note).IsValid);
        Assert.Equal("the checkpoint is not signed by the pinned log key",
            new CheckpointPolicy(Origin, LogVerifier).Verify(Signed(head, ECDsa.Create(ECCurve.NamedCurves.nistP256))).Problem);
        Assert.StartsWith("the checkpoint is of log", new CheckpointPolicy("keyward.test/other/audit", LogVerifier).Verify(note).Problem);
        var requireOne = new CheckpointPolicy(Origin, LogVerifier, [witness.Verifier], 1);
        Assert.Equal("the checkpoint has 0 valid witness cosignature(s), 1 are required", requireOne.Verify(note).Problem);

        Assert.True(SignedNote.TryParse(note, out var parsed));
        var cosigned = parsed.With(witness.Cosign(parsed.Body, DateTimeOffset.UtcNow)).ToString();
        Assert.True(requireOne.Verify(cosigned).IsValid);
        var otherBody = new TreeHead(Origin, 6, head.RootHash).ToBody();
        var misplaced = parsed.With(witness.Cosign(otherBody, DateTimeOffset.UtcNow)).ToString();
        Assert.False(requireOne.Verify(misplaced).IsValid);
    }

    [Fact]
    public void A_witness_verifier_key_round_trips_and_a_tampered_one_is_refused()
    {
        var witness = new Cosigner("witness.test/w1", Cosigner.NewSeed());

        Assert.True(CosignatureVerifier.TryParse(witness.Verifier.VerifierKey, out var parsed));
        Assert.Equal(witness.Verifier.KeyId, parsed.KeyId);
        var parts = witness.Verifier.VerifierKey.Split('+', 3);
        Assert.False(CosignatureVerifier.TryParse($"witness.test/w2+{parts[1]}+{parts[2]}", out _));
    }

    [Fact]
    public async Task A_trusted_head_advances_only_along_a_consistency_proof_and_refuses_a_fork()
    {
        var nodes = await MerkleTreeTests.TreeOf(20);
        var fork = new MemoryNodes();
        var forked = new CompactRange();
        for (var i = 0; i < 20; i++)
        {
            forked.Append(MerkleHash.Leaf(MerkleTreeTests.Data(i == 3 ? 99 : i)), (n, h) => fork.All[n] = h);
        }

        var seen = new TrustedHead(10, await MerkleProofs.RootAsync(nodes, 10, default));
        var honest = new TreeHead(Origin, 20, await MerkleProofs.RootAsync(nodes, 20, default));
        var lie = new TreeHead(Origin, 20, await MerkleProofs.RootAsync(fork, 20, default));

        Assert.Equal(20, seen.Advance(honest, await MerkleProofs.ConsistencyAsync(nodes, 10, 20, default))?.Size);
        Assert.Null(seen.Advance(lie, await MerkleProofs.ConsistencyAsync(fork, 10, 20, default)));
        Assert.Null(seen.Advance(lie, await MerkleProofs.ConsistencyAsync(nodes, 10, 20, default)));
    }
}
