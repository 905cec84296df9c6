using System.Security.Cryptography;
using System.Text;
using Keyward.Tests.Shared;
using Keyward.Transparency;

namespace Keyward.UnitTests.Transparency;

/// <summary>
/// The tree against the RFC 6962 test vectors that Certificate Transparency implementations share (eight leaves,
/// roots and proofs published with Google's and Trillian's code), then every proof of every small tree.
/// </summary>
public sealed class MerkleTreeTests
{
    private static readonly byte[][] Leaves = new[] { "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f" }
        .Select(Convert.FromHexString).ToArray();

    private static readonly string[] Roots =
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    [Fact]
    public void The_empty_tree_and_the_roots_of_the_reference_vectors()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(MerkleHash.EmptyRoot));
        var tree = new CompactRange();
        for (var i = 0; i < Leaves.Length; i++)
        {
            tree.Append(MerkleHash.Leaf(Leaves[i]));
            Assert.Equal(Roots[i], Convert.ToHexStringLower(tree.Root()));
        }
    }

    [Fact]
    public async Task Inclusion_and_consistency_proofs_match_the_reference_vectors()
    {
        var nodes = await TreeOf(8);

        Assert.Equal(["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
            Hex(await MerkleProofs.InclusionAsync(nodes, 0, 8, default)));
        Assert.Equal(["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
            Hex(await MerkleProofs.ConsistencyAsync(nodes, 6, 8, default)));
        Assert.Equal(["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
            Hex(await MerkleProofs.ConsistencyAsync(nodes, 2, 5, default)));
    }

    [Fact]
    public async Task Every_inclusion_and_consistency_proof_of_trees_up_to_40_leaves_verifies_and_no_tampered_one_does()
    {
        const int Max = 40;
        var nodes = await TreeOf(Max);
        var roots = new byte[Max + 1][];
        for (var n = 0; n <= Max; n++)
        {
            roots[n] = await MerkleProofs.RootAsync(nodes, n, default);
        }

        for (var n = 1; n <= Max; n++)
        {
            for (var m = 0; m < n; m++)
            {
                var inclusion = await MerkleProofs.InclusionAsync(nodes, m, n, default);
                var leaf = MerkleHash.Leaf(Data(m));
                var (servedLeaf, servedProof) = await MerkleProofs.InclusionWithLeafAsync(nodes, m, n, default);
                Assert.Equal(leaf, servedLeaf);
                Assert.Equal(Hex(inclusion), Hex(servedProof));
                Assert.True(ProofVerifier.VerifyInclusion(leaf, m, n, inclusion, roots[n]), $"inclusion {m} in {n}");
                Assert.False(ProofVerifier.VerifyInclusion(MerkleHash.Leaf(Data(m + 1)), m, n, inclusion, roots[n]));
                Assert.False(ProofVerifier.VerifyInclusion(leaf, m, n, inclusion, roots[n - 1]));
                if (inclusion.Length > 0)
                {
                    Assert.False(ProofVerifier.VerifyInclusion(leaf, m, n, Flip(inclusion), roots[n]));
                }

                var consistency = await MerkleProofs.ConsistencyAsync(nodes, m, n, default);
                Assert.True(ProofVerifier.VerifyConsistency(m, n, roots[m], roots[n], consistency), $"consistency {m} to {n}");
                if (m > 0)
                {
                    Assert.False(ProofVerifier.VerifyConsistency(m, n, roots[m - 1], roots[n], consistency));
                    Assert.False(ProofVerifier.VerifyConsistency(m, n, roots[m], MerkleHash.Leaf(Data(n)), consistency));
                    Assert.False(ProofVerifier.VerifyConsistency(m, n, roots[m], roots[n], Flip(consistency)));
                }
            }
        }
    }

    [Fact]
    public void A_compact_range_survives_being_stored_and_reports_every_node_it_completes()
    {
        var tree = new CompactRange();
        var completed = new List<NodeId>();
        for (var i = 0; i < 11; i++)
        {
            tree.Append(MerkleHash.Leaf(Data(i)), (node, _) => completed.Add(node));
        }

        var restored = CompactRange.FromBytes(tree.Size, tree.ToBytes());
        restored.Append(MerkleHash.Leaf(Data(11)));
        tree.Append(MerkleHash.Leaf(Data(11)));

        Assert.Equal(tree.Root(), restored.Root());
        Assert.Equal(11 + 5 + 2 + 1, completed.Count);
        Assert.Equal([new NodeId(3, 0), new NodeId(1, 4), new NodeId(0, 10)], CompactRange.EdgeOf(11));
        Assert.Throws<ArgumentException>(() => CompactRange.FromBytes(3, new byte[32]));
    }

    internal static byte[] Data(int i) => Encoding.UTF8.GetBytes($"leaf {i}");

    internal static async Task<MemoryNodes> TreeOf(int count)
    {
        var nodes = new MemoryNodes();
        var tree = new CompactRange();
        for (var i = 0; i < count; i++)
        {
            tree.Append(MerkleHash.Leaf(count == 8 ? Leaves[i] : Data(i)), (node, hash) => nodes.All[node] = hash);
        }

        return await Task.FromResult(nodes);
    }

    private static byte[][] Flip(byte[][] proof)
    {
        var copy = proof.Select(p => p.ToArray()).ToArray();
        copy[^1][0] ^= 1;
        return copy;
    }

    private static string[] Hex(byte[][] hashes) => hashes.Select(Convert.ToHexStringLower).ToArray();
}
