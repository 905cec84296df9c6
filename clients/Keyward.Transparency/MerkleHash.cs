using System.Security.Cryptography;

namespace Keyward.Transparency;

/// <summary>
/// RFC 9162 §2.1.1 hashing: a leaf is SHA-256(0x00 ‖ data), an interior node SHA-256(0x01 ‖ left ‖ right), the
/// empty tree SHA-256 of nothing. Written by hand: there is no well-kept .NET library for transparency logs (the
/// maintained implementations — Trillian, Tessera, sigsum — are Go), and these few lines are the whole definition.
/// </summary>
public static class MerkleHash
{
    public const int Size = 32;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    [ThreadStatic]
    private static IncrementalHash? _leafHasher;

    public static byte[] EmptyRoot { get; } = SHA256.HashData([]);

    public static byte[] Leaf(ReadOnlySpan<byte> data)
    {
        var hash = new byte[Size];
        Leaf(data, hash);
        return hash;
    }

    public static void Leaf(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        var hasher = _leafHasher ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        ReadOnlySpan<byte> prefix = [LeafPrefix];
        hasher.AppendData(prefix);
        hasher.AppendData(data);
        hasher.GetHashAndReset(destination);
    }

    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var hash = new byte[Size];
        Node(left, right, hash);
        return hash;
    }

    public static void Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[1 + 2 * Size];
        input[0] = NodePrefix;
        left.CopyTo(input[1..]);
        right.CopyTo(input[(1 + Size)..]);
        SHA256.HashData(input, destination);
    }
}
