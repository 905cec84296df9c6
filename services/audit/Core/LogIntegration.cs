using Keyward.Transparency;

namespace Keyward.Audit.Core;

/// <summary>A batch integrated into a log: its leaves from index <see cref="FirstIndex"/>, the nodes they complete, the new head.</summary>
public sealed record IntegratedBatch(long FirstIndex, IReadOnlyList<NewLeaf> Leaves, IReadOnlyList<(NodeId Node, byte[] Hash)> Nodes, LogState State);

/// <summary>
/// Appends leaves to a log's tree in memory: redeliveries (ids already in the log or twice in the batch) dropped,
/// the compact range extended, every completed node kept for the store. Pure; the adapter writes the result.
/// </summary>
public static class LogIntegration
{
    public static IntegratedBatch Integrate(LogState? head, IEnumerable<NewLeaf> leaves, IReadOnlySet<Guid> alreadyLogged)
    {
        var tree = head is null ? new CompactRange() : CompactRange.FromBytes(head.Size, head.Edge);
        var first = tree.Size;
        var seen = new HashSet<Guid>(alreadyLogged);
        var kept = new List<NewLeaf>();
        var nodes = new List<(NodeId, byte[])>();
        foreach (var leaf in leaves)
        {
            if (!seen.Add(leaf.EventId))
            {
                continue;
            }

            kept.Add(leaf);
            tree.Append(MerkleHash.Leaf(leaf.Data), (node, hash) => nodes.Add((node, hash)));
        }

        return new IntegratedBatch(first, kept, nodes, new LogState(tree.Size, tree.Root(), tree.ToBytes()));
    }
}
