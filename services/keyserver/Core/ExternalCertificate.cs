using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Keyward.Common.Certificates;
using Keyward.Common.V1;

namespace Keyward.Keyserver.Core;

/// <summary>
/// The check of a certificate a user brings from elsewhere (reference §a.2, PUT public-key): PEM that parses
/// as X.509 with the user as subject CN. Who issued it is not checked, as in the reference.
/// </summary>
public static class ExternalCertificate
{
    public const string InvalidFormatMessage = "Invalid public key format";
    public const string CnMismatchMessage = "Common name (CN) does not match the current user";
    private const int MaxLength = 64 * 1024;

    public static (RefusalReason? Reason, string? Message) Check(string? pem, string userId)
    {
        if (string.IsNullOrEmpty(pem) || pem.Length > MaxLength || !pem.StartsWith("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            return (RefusalReason.CertificateInvalid, InvalidFormatMessage);
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return (RefusalReason.CertificateInvalid, InvalidFormatMessage);
        }

        using (certificate)
        {
            return DistinguishedNames.NamesExactly(certificate.SubjectName, userId) ? (null, null) : (RefusalReason.CnMismatch, CnMismatchMessage);
        }
    }

    public static string FingerprintSha256(string pem)
    {
        using var certificate = X509Certificate2.CreateFromPem(pem);
        return certificate.GetCertHashString(HashAlgorithmName.SHA256).ToLowerInvariant();
    }
}
