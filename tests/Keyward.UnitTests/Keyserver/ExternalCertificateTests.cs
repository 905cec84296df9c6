using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Keyward.Common.V1;
using Keyward.Keyserver.Core;
using Keyward.Tests.Shared;

namespace Keyward.UnitTests.Keyserver;

public sealed class ExternalCertificateTests
{
    [Fact]
    public void A_certificate_of_the_caller_from_a_Nextcloud_server_is_accepted()
    {
        var pem = Vectors.Load("e2ee-app-v2/private-keys.json").GetProperty("bob").GetProperty("certificatePem").GetString();

        Assert.Equal((null, null), ExternalCertificate.Check(pem, "bob"));
    }

    [Fact]
    public void Someone_elses_certificate_is_refused_with_the_reference_message()
    {
        var pem = Vectors.Load("e2ee-app-v2/private-keys.json").GetProperty("bob").GetProperty("certificatePem").GetString();

        Assert.Equal((RefusalReason.CnMismatch, "Common name (CN) does not match the current user"), ExternalCertificate.Check(pem, "alice"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")]
    public void Something_that_is_not_a_PEM_certificate_is_an_invalid_format(string pem)
    {
        Assert.Equal((RefusalReason.CertificateInvalid, "Invalid public key format"), ExternalCertificate.Check(pem, "alice"));
    }

    [Fact]
    public void A_self_signed_certificate_from_a_hardware_token_is_accepted_whoever_issued_it()
    {
        using var key = RSA.Create(2048);
        var certificate = new CertificateRequest("CN=alice", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddYears(1));

        Assert.Equal((null, null), ExternalCertificate.Check(certificate.ExportCertificatePem(), "alice"));
    }
}
