using System.Security.Cryptography;
using System.Text;

namespace Keyward.AuditTrail;

/// <summary>
/// The CA's receipt for an audit event it hands to another service to commit (the keyserver commits a certificate's
/// events with the certificate, so the CA needs no transaction of its own): an ECDSA P-256 SHA-256 signature (DER)
/// with the tenant's log key over a fixed prefix and the event's canonical bytes. The prefix keeps a receipt apart
/// from a checkpoint signature by the same key (a checkpoint's second line is a tree size, never JSON), so neither
/// can stand for the other. The audit service logs a carried CA event only when its receipt verifies.
/// </summary>
public static class AuditReceipt
{
    private static readonly byte[] Prefix = Encoding.ASCII.GetBytes("keyward-audit-receipt/v1\n");

    /// <summary>The bytes a receipt signs.</summary>
    public static byte[] SignedBytes(ReadOnlySpan<byte> canonicalEvent)
    {
        var bytes = new byte[Prefix.Length + canonicalEvent.Length];
        Prefix.CopyTo(bytes, 0);
        canonicalEvent.CopyTo(bytes.AsSpan(Prefix.Length));
        return bytes;
    }

    /// <summary>Whether <paramref name="auditEvent"/> carries a receipt that <paramref name="logKey"/> (the tenant's log key) made for exactly this event.</summary>
    public static bool Verify(AuditEvent auditEvent, ECDsa logKey)
    {
        if (auditEvent.Receipt is not { Length: > 0 and <= 256 } encoded)
        {
            return false;
        }

        var signature = new byte[192];
        return Convert.TryFromBase64String(encoded, signature, out var length)
            && logKey.VerifyData(SignedBytes(CanonicalAuditEvent.ToBytes(auditEvent)), signature.AsSpan(0, length), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }
}
