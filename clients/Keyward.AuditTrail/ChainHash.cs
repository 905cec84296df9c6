using System.Security.Cryptography;

namespace Keyward.AuditTrail;

/// <summary>The per-tenant hash chain: hash(n) = SHA-256(hash(n-1) ‖ canonical bytes of entry n); before entry 1, 32 zero bytes.</summary>
public static class ChainHash
{
    public const int Size = 32;

    public static byte[] Genesis => new byte[Size];

    public static byte[] Next(ReadOnlySpan<byte> previousHash, ReadOnlySpan<byte> canonicalEvent)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(previousHash);
        hash.AppendData(canonicalEvent);
        return hash.GetHashAndReset();
    }

    /// <summary>Allocation-free variant for long verifications.</summary>
    public static void Next(ReadOnlySpan<byte> previousHash, ReadOnlySpan<byte> canonicalEvent, IncrementalHash hash, Span<byte> destination)
    {
        hash.AppendData(previousHash);
        hash.AppendData(canonicalEvent);
        hash.GetHashAndReset(destination);
    }
}
