using System.Security.Cryptography;
using Keyward.CertificateAuthority.Core;

namespace Keyward.UnitTests.CertificateAuthority;

/// <summary>A tenant key in memory: lets the policy and profile be tested without an HSM (unit tests only).</summary>
internal sealed class SoftwareTenantKey(RSA rsa) : TenantKey(rsa.ExportSubjectPublicKeyInfo())
{
    public override byte[] SignSha256(byte[] data) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
}

internal static class Csrs
{
    public static (string Pem, RSA Key) Rsa(string subject, int bits = 2048)
    {
        var key = RSA.Create(bits);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return (request.CreateSigningRequestPem(), key);
    }

    public static string Ec(string subject, ECCurve curve)
    {
        using var key = ECDsa.Create(curve);
        return new System.Security.Cryptography.X509Certificates.CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
    }
}
