namespace Keyward.Transparency;

/// <summary>A node of the tree: the perfect subtree of 2^level leaves starting at leaf <c>index · 2^level</c>.</summary>
public readonly record struct NodeId(int Level, long Index)
{
    public long FirstLeaf => Index << Level;

    public long LeafCount => 1L << Level;
}

/// <summary>
/// The right edge of a tree of <see cref="Size"/> leaves: one hash per perfect subtree covering [0, Size), largest
/// first (one per set bit of Size). Enough to append leaves and to compute the root without reading the tree.
/// </summary>
public sealed class CompactRange
{
    private readonly List<byte[]> _hashes;

    public CompactRange() : this(0, []) { }

    private CompactRange(long size, List<byte[]> hashes)
    {
        Size = size;
        _hashes = hashes;
    }

    public long Size { get; private set; }

    /// <summary>
    /// Appends a leaf hash; <paramref name="completed"/> gets the leaf's node and every interior node the leaf
    /// completes (what a store must keep to serve proofs later).
    /// </summary>
    public void Append(byte[] leafHash, Action<NodeId, byte[]>? completed = null)
    {
        var index = Size;
        var level = 0;
        completed?.Invoke(new NodeId(0, index), leafHash);
        _hashes.Add(leafHash);
        while ((index & 1) == 1)
        {
            var right = _hashes[^1];
            var left = _hashes[^2];
            _hashes.RemoveRange(_hashes.Count - 2, 2);
            var parent = MerkleHash.Node(left, right);
            level++;
            index >>= 1;
            completed?.Invoke(new NodeId(level, index), parent);
            _hashes.Add(parent);
        }

        Size++;
    }

    public byte[] Root()
    {
        if (_hashes.Count == 0)
        {
            return MerkleHash.EmptyRoot;
        }

        var root = _hashes[^1];
        for (var i = _hashes.Count - 2; i >= 0; i--)
        {
            root = MerkleHash.Node(_hashes[i], root);
        }

        return root;
    }

    /// <summary>The edge hashes, concatenated; with the size this is the whole state.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[_hashes.Count * MerkleHash.Size];
        for (var i = 0; i < _hashes.Count; i++)
        {
            _hashes[i].CopyTo(bytes, i * MerkleHash.Size);
        }

        return bytes;
    }

    public static CompactRange FromBytes(long size, ReadOnlySpan<byte> edge)
    {
        if (size < 0 || edge.Length != long.PopCount(size) * MerkleHash.Size)
        {
            throw new ArgumentException($"a compact range of {size} leaves has {long.PopCount(size)} hashes");
        }

        var hashes = new List<byte[]>();
        for (var i = 0; i < edge.Length; i += MerkleHash.Size)
        {
            hashes.Add(edge.Slice(i, MerkleHash.Size).ToArray());
        }

        return new CompactRange(size, hashes);
    }

    /// <summary>The nodes of the edge of a tree of <paramref name="size"/> leaves, largest first.</summary>
    public static IEnumerable<NodeId> EdgeOf(long size)
    {
        long start = 0;
        for (var level = 62; level >= 0; level--)
        {
            if ((size & (1L << level)) != 0)
            {
                yield return new NodeId(level, start >> level);
                start += 1L << level;
            }
        }
    }
}
