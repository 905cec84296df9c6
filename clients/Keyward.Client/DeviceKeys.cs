using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Security;

namespace Keyward.Client;

/// <summary>A user's key pair, CSR and the checks of certificates against the server key (reference §c).</summary>
public static class DeviceKeys
{
    public static RSA NewKeyPair() => RSA.Create(2048);

    public static string CreateCsr(RSA key, string userId)
    {
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(userId);
        return new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
    }

    /// <summary>Whether the certificate was signed by the server key (RSA PKCS#1 v1.5) and is valid now ±60 s.</summary>
    public static bool IsIssuedBy(string certificatePem, string serverKeyPem)
    {
        try
        {
            var certificate = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(System.Text.Encoding.ASCII.GetBytes(certificatePem));
            using var serverKey = RSA.Create();
            serverKey.ImportFromPem(serverKeyPem);
            certificate.Verify(PublicKeyFactory.CreateKey(serverKey.ExportSubjectPublicKeyInfo()));
            var now = DateTime.UtcNow;
            return certificate.NotBefore <= now.AddSeconds(60) && certificate.NotAfter >= now.AddSeconds(-60);
        }
        catch (Exception e) when (e is GeneralSecurityException or CryptographicException or ArgumentException or Org.BouncyCastle.Security.Certificates.CertificateException)
        {
            return false;
        }
    }

    public static string Fingerprint(string certificatePem)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        return certificate.GetCertHashString(HashAlgorithmName.SHA256).ToLowerInvariant();
    }

    public static bool Matches(string certificatePem, RSA privateKey)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using var publicKey = certificate.GetRSAPublicKey();
        return publicKey is not null && publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(privateKey.ExportSubjectPublicKeyInfo());
    }
}
