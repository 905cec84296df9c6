using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Keyward.AuditTrail;

/// <summary>
/// A signed statement "tenant T's chain had hash H at sequence N at time S". These bytes are what the HSM
/// checkpoint key signs (ECDSA P-256, SHA-256, DER signature).
/// </summary>
public sealed record Checkpoint(string TenantId, long Sequence, byte[] Hash, DateTimeOffset SignedAt)
{
    public const string Header = "keyward-audit-checkpoint/v1";

    public byte[] ToBytes() => Encoding.UTF8.GetBytes(
        $"{Header}\n{TenantId}\n{Sequence.ToString(CultureInfo.InvariantCulture)}\n{Convert.ToHexStringLower(Hash)}\n{SignedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture)}\n");

    public static bool TryParse(byte[] bytes, out Checkpoint checkpoint)
    {
        checkpoint = null!;
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        if (lines.Length != 6 || lines[0] != Header || lines[5] != ""
            || !long.TryParse(lines[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            || !DateTimeOffset.TryParse(lines[4], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var signedAt))
        {
            return false;
        }

        try
        {
            checkpoint = new Checkpoint(lines[1], sequence, Convert.FromHexString(lines[3]), signedAt);
            return checkpoint.ToBytes().AsSpan().SequenceEqual(bytes);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static bool VerifySignature(byte[] checkpointBytes, byte[] signature, string publicKeyPem)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(publicKeyPem);
        return key.VerifyData(checkpointBytes, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }
}
