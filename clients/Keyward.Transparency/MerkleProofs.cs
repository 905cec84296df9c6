namespace Keyward.Transparency;

/// <summary>The perfect-subtree nodes a store is asked for when a proof or a root is built.</summary>
public interface ILogNodes
{
    /// <summary>The hashes of the given nodes; every one asked for must exist in the tree.</summary>
    Task<IReadOnlyDictionary<NodeId, byte[]>> ReadAsync(IReadOnlyCollection<NodeId> nodes, CancellationToken cancellationToken);
}

/// <summary>
/// Builds RFC 9162 §2.1.3 inclusion and §2.1.4 consistency proofs from stored perfect-subtree hashes. Each proof
/// element is the hash of a leaf range; a range that is not a perfect subtree (the right edge) is computed from
/// the perfect subtrees it splits into, all read in one request.
/// </summary>
public static class MerkleProofs
{
    public readonly record struct LeafRange(long Start, long End);

    public static async Task<byte[][]> InclusionAsync(ILogNodes nodes, long index, long size, CancellationToken cancellationToken)
    {
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"leaf {index} is not in a tree of {size}");
        }

        var ranges = new List<LeafRange>();
        InclusionRanges(index, 0, size, ranges);
        return (await HashesAsync(nodes, ranges, cancellationToken)).Hashes;
    }

    /// <summary>The leaf's own hash and its inclusion proof, read from the store together (one round trip).</summary>
    public static async Task<(byte[] LeafHash, byte[][] Hashes)> InclusionWithLeafAsync(ILogNodes nodes, long index, long size, CancellationToken cancellationToken)
    {
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"leaf {index} is not in a tree of {size}");
        }

        var ranges = new List<LeafRange>();
        InclusionRanges(index, 0, size, ranges);
        var leaf = new NodeId(0, index);
        var (hashes, leafHash) = await HashesAsync(nodes, ranges, cancellationToken, leaf);
        return (leafHash!, hashes);
    }

    public static async Task<byte[][]> ConsistencyAsync(ILogNodes nodes, long first, long second, CancellationToken cancellationToken)
    {
        if (first < 0 || first > second)
        {
            throw new ArgumentOutOfRangeException(nameof(first), $"no consistency proof from {first} to {second}");
        }

        var ranges = new List<LeafRange>();
        if (first > 0 && first < second)
        {
            ConsistencyRanges(first, 0, second, true, ranges);
        }

        return (await HashesAsync(nodes, ranges, cancellationToken)).Hashes;
    }

    /// <summary>The root of the first <paramref name="size"/> leaves.</summary>
    public static async Task<byte[]> RootAsync(ILogNodes nodes, long size, CancellationToken cancellationToken) =>
        size == 0 ? MerkleHash.EmptyRoot : (await HashesAsync(nodes, [new LeafRange(0, size)], cancellationToken)).Hashes[0];

    /// <summary>PATH(m, D[start:end]), deepest element first.</summary>
    internal static void InclusionRanges(long m, long start, long end, List<LeafRange> into)
    {
        if (end - start <= 1)
        {
            return;
        }

        var k = SplitPoint(end - start);
        if (m < start + k)
        {
            InclusionRanges(m, start, start + k, into);
            into.Add(new LeafRange(start + k, end));
        }
        else
        {
            InclusionRanges(m, start + k, end, into);
            into.Add(new LeafRange(start, start + k));
        }
    }

    /// <summary>SUBPROOF(m, D[start:end], b) of RFC 9162 §2.1.4.1, with m counted from <paramref name="start"/>.</summary>
    internal static void ConsistencyRanges(long m, long start, long end, bool wholeOldTree, List<LeafRange> into)
    {
        var n = end - start;
        if (m == n)
        {
            if (!wholeOldTree)
            {
                into.Add(new LeafRange(start, end));
            }

            return;
        }

        var k = SplitPoint(n);
        if (m <= k)
        {
            ConsistencyRanges(m, start, start + k, wholeOldTree, into);
            into.Add(new LeafRange(start + k, end));
        }
        else
        {
            ConsistencyRanges(m - k, start + k, end, false, into);
            into.Add(new LeafRange(start, start + k));
        }
    }

    /// <summary>The largest power of two smaller than n (n ≥ 2).</summary>
    internal static long SplitPoint(long n) => 1L << (63 - (int)long.LeadingZeroCount(n - 1));

    /// <summary>The perfect subtrees [start, end) splits into, left to right.</summary>
    internal static void PerfectSubtrees(long start, long end, List<NodeId> into)
    {
        while (start < end)
        {
            var size = end - start;
            if (long.IsPow2(size) && start % size == 0)
            {
                into.Add(new NodeId(63 - (int)long.LeadingZeroCount(size), start / size));
                return;
            }

            var k = SplitPoint(size);
            PerfectSubtrees(start, start + k, into);
            start += k;
        }
    }

    /// <summary>The hash of each range, and of <paramref name="extra"/> (a node read in the same round trip) when asked.</summary>
    private static async Task<(byte[][] Hashes, byte[]? Extra)> HashesAsync(ILogNodes nodes, List<LeafRange> ranges, CancellationToken cancellationToken, NodeId? extra = null)
    {
        var needed = new List<NodeId>();
        foreach (var range in ranges)
        {
            PerfectSubtrees(range.Start, range.End, needed);
        }

        if (extra is { } node)
        {
            needed.Add(node);
        }

        var found = needed.Count == 0 ? new Dictionary<NodeId, byte[]>() : await nodes.ReadAsync(needed.Distinct().ToList(), cancellationToken);
        var hashes = new byte[ranges.Count][];
        var parts = new List<NodeId>();
        for (var i = 0; i < ranges.Count; i++)
        {
            parts.Clear();
            PerfectSubtrees(ranges[i].Start, ranges[i].End, parts);
            // A range is a perfect subtree, or perfect subtrees of falling size: fold them from the right.
            var hash = Lookup(found, parts[^1]);
            for (var p = parts.Count - 2; p >= 0; p--)
            {
                hash = MerkleHash.Node(Lookup(found, parts[p]), hash);
            }

            hashes[i] = hash;
        }

        return (hashes, extra is { } wanted ? Lookup(found, wanted) : null);
    }

    private static byte[] Lookup(IReadOnlyDictionary<NodeId, byte[]> found, NodeId node) =>
        found.TryGetValue(node, out var hash) ? hash : throw new LogNodeMissingException(node);
}

/// <summary>The store lacks a node the tree should have: the log is damaged, not the request.</summary>
public sealed class LogNodeMissingException(NodeId node) : Exception($"the log has no node at level {node.Level}, index {node.Index}")
{
    public NodeId Node { get; } = node;
}
