using System.Security.Cryptography;
using Keyward.CertificateAuthority.Core;
using Keyward.Common.V1;

namespace Keyward.UnitTests.CertificateAuthority;

public sealed class CsrPolicyTests
{
    [Fact]
    public void An_RSA_2048_request_for_the_caller_is_accepted()
    {
        var (pem, _) = Csrs.Rsa("C=DE, ST=Baden-Wuerttemberg, L=Stuttgart, O=Nextcloud, CN=alice");

        var decision = CsrPolicy.Evaluate(pem, "alice");

        Assert.True(decision.Accepted, decision.Message);
    }

    [Theory]
    [InlineData("CN=Alice")]
    [InlineData("CN=bob")]
    [InlineData("O=Nextcloud")]
    [InlineData("CN=alice, CN=bob")]
    public void A_common_name_that_is_not_exactly_the_caller_is_CN_MISMATCH(string subject)
    {
        var (pem, _) = Csrs.Rsa(subject);

        var decision = CsrPolicy.Evaluate(pem, "alice");

        Assert.Equal(RefusalReason.CnMismatch, decision.Reason);
        Assert.Equal("Common name (CN) does not match the current user", decision.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a csr")]
    [InlineData("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----")]
    public void Something_that_is_not_a_CSR_is_CSR_INVALID_with_the_reference_message(string pem)
    {
        var decision = CsrPolicy.Evaluate(pem, "alice");

        Assert.Equal(RefusalReason.CsrInvalid, decision.Reason);
        Assert.Equal("Could not parse the CSR, please make sure to submit a valid CSR", decision.Message);
    }

    [Fact]
    public void A_request_whose_self_signature_does_not_verify_is_refused()
    {
        var (pem, _) = Csrs.Rsa("CN=alice");
        var der = Convert.FromBase64String(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----"))));
        der[^10] ^= 0xFF; // inside the signature
        var tampered = PemEncoding.WriteString("CERTIFICATE REQUEST", der);

        Assert.Equal(RefusalReason.CsrInvalid, CsrPolicy.Evaluate(tampered, "alice").Reason);
    }

    [Fact]
    public void A_weak_RSA_key_is_refused_with_its_size()
    {
        var (pem, _) = Csrs.Rsa("CN=alice", bits: 1024);

        var decision = CsrPolicy.Evaluate(pem, "alice");

        Assert.Equal(RefusalReason.KeyPolicy, decision.Reason);
        Assert.Contains("this one has 1024", decision.Message);
    }

    [Fact]
    public void EC_P256_and_P384_keys_are_accepted()
    {
        Assert.True(CsrPolicy.Evaluate(Csrs.Ec("CN=alice", ECCurve.NamedCurves.nistP256), "alice").Accepted);
        Assert.True(CsrPolicy.Evaluate(Csrs.Ec("CN=alice", ECCurve.NamedCurves.nistP384), "alice").Accepted);
    }

    [Fact]
    public void An_EC_key_on_another_curve_is_refused()
    {
        var decision = CsrPolicy.Evaluate(Csrs.Ec("CN=alice", ECCurve.NamedCurves.nistP521), "alice");

        Assert.Equal(RefusalReason.KeyPolicy, decision.Reason);
        Assert.Contains("P-256 or P-384", decision.Message);
    }

    [Fact]
    public void The_order_of_checks_is_parse_then_common_name_then_key()
    {
        var (weakForBob, _) = Csrs.Rsa("CN=bob", bits: 1024);

        Assert.Equal(RefusalReason.CnMismatch, CsrPolicy.Evaluate(weakForBob, "alice").Reason);
    }
}
