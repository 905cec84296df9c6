using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Keyward.CertificateAuthority.Core;
using Keyward.Tests.Shared;

namespace Keyward.UnitTests.CertificateAuthority;

public sealed class CertificateProfileTests
{
    private static readonly SoftwareTenantKey CaKey = new(RSA.Create(2048));
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static (X509Certificate2 Certificate, RSA UserKey) Issue(string subject = "O=Nextcloud, CN=alice")
    {
        var (pem, key) = Csrs.Rsa(subject);
        var request = CsrPolicy.Evaluate(pem, "alice").Request!;
        return (new CertificateProfile(7300).Issue(request, CaKey, Now), key);
    }

    [Fact]
    public void The_issuer_DN_is_the_subject_DN_as_Nextcloud_clients_expect()
    {
        var (certificate, _) = Issue();

        Assert.Equal(certificate.SubjectName.RawData, certificate.IssuerName.RawData);
        Assert.Equal("alice", certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: true));
    }

    [Fact]
    public void It_is_a_CA_certificate_without_KeyUsage()
    {
        var (certificate, _) = Issue();

        var constraints = Assert.Single(certificate.Extensions.OfType<X509BasicConstraintsExtension>());
        Assert.True(constraints.CertificateAuthority);
        Assert.Empty(certificate.Extensions.OfType<X509KeyUsageExtension>());
    }

    [Fact]
    public void It_is_signed_sha256WithRSAEncryption_by_the_tenant_key_and_a_client_verifies_it_against_the_server_key()
    {
        var (certificate, _) = Issue();

        Assert.Equal("1.2.840.113549.1.1.11", certificate.SignatureAlgorithm.Value);
        NextcloudClientChecks.VerifyCertificateAgainstServerKey(certificate.ExportCertificatePem(), CaKey.PublicKeyPem);
    }

    [Fact]
    public void A_certificate_signed_by_another_key_does_not_verify()
    {
        var (certificate, _) = Issue();
        var otherServerKey = new SoftwareTenantKey(RSA.Create(2048)).PublicKeyPem;

        Assert.ThrowsAny<Exception>(() => NextcloudClientChecks.VerifyCertificateAgainstServerKey(certificate.ExportCertificatePem(), otherServerKey));
    }

    [Fact]
    public void Validity_is_twenty_years_from_a_minute_ago_and_the_serial_is_random_and_positive()
    {
        var (first, _) = Issue();
        var (second, _) = Issue();

        Assert.Equal(Now.AddMinutes(-1).UtcDateTime, first.NotBefore.ToUniversalTime(), TimeSpan.FromSeconds(1));
        Assert.Equal(Now.AddDays(7300).UtcDateTime, first.NotAfter.ToUniversalTime(), TimeSpan.FromSeconds(1));
        Assert.Equal(16, first.GetSerialNumber().Length);
        Assert.True(first.SerialNumberBytes.Span[0] < 0x80);
        Assert.NotEqual(first.SerialNumber, second.SerialNumber);
    }

    [Fact]
    public void A_CMS_signature_made_with_the_issued_certificate_verifies_the_way_the_web_client_checks_it()
    {
        var (certificate, userKey) = Issue();
        using var withKey = certificate.CopyWithPrivateKey(userKey);

        NextcloudClientChecks.SignAndVerifyCms("eyJtZXRhZGF0YSI6e319"u8.ToArray(), withKey, "alice");
    }

    [Fact]
    public void The_server_key_vectors_verify_the_certificates_Nextcloud_issued()
    {
        // The check used on our certificates is the one that accepts the reference server's own.
        var vectors = Vectors.Load("e2ee-app-v2/server-keys.json");
        var privateKeys = Vectors.Load("e2ee-app-v2/private-keys.json");

        NextcloudClientChecks.VerifyCertificateAgainstServerKey(privateKeys.GetProperty("admin").GetProperty("certificatePem").GetString()!,
            vectors.GetProperty("serverPublicKeyForAdminAndLegacyAlice").GetString()!);
    }
}
