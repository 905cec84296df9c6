using System.Security.Cryptography;
using System.Text;
using Keyward.Audit.Core;
using Keyward.AuditTrail;
using Keyward.UnitTests.Metadata;

namespace Keyward.UnitTests.AuditTrail;

/// <summary>
/// The keyserver carries the CA's certificate events to the log; the adversary holds the keyserver's broker
/// credentials (or the keyserver itself) and wants to put words in the CA's mouth, or change what the CA said.
/// </summary>
public sealed class AuditReceiptTests
{
    private static readonly PublisherPolicy Policy = new(new PublisherOptions());

    [Fact]
    public void A_receipt_of_the_tenant_log_key_holds_for_exactly_its_event()
    {
        using var logKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signed = Receipted(CaEvent("ca.certificate.signed"), logKey);

        Assert.True(AuditReceipt.Verify(signed, logKey));
        // The carrier changes what the CA said: another serial, another user, another outcome.
        Assert.False(AuditReceipt.Verify(signed with { Details = new Dictionary<string, string> { ["serial"] = "02" } }, logKey));
        Assert.False(AuditReceipt.Verify(signed with { Target = new AuditTarget("user", "mallory") }, logKey));
        Assert.False(AuditReceipt.Verify(signed with { Outcome = AuditOutcome.Denied("CN_MISMATCH") }, logKey));
        // A receipt of its own making, or none, or not even base64.
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.False(AuditReceipt.Verify(Receipted(CaEvent("ca.certificate.signed"), forger), logKey));
        Assert.False(AuditReceipt.Verify(signed with { Receipt = null }, logKey));
        Assert.False(AuditReceipt.Verify(signed with { Receipt = "not base64!" }, logKey));
        Assert.False(AuditReceipt.Verify(signed with { Receipt = new string('A', 4000) }, logKey));
    }

    [Fact]
    public void A_checkpoint_signature_of_the_same_key_is_no_receipt()
    {
        using var logKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var auditEvent = CaEvent("ca.certificate.signed");
        // What the CA signs for the log: a checkpoint body. Even of the event's own bytes it is not a receipt.
        var checkpointSignature = logKey.SignData(CanonicalAuditEvent.ToBytes(auditEvent), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        Assert.False(AuditReceipt.Verify(auditEvent with { Receipt = Convert.ToBase64String(checkpointSignature) }, logKey));
        Assert.StartsWith("keyward-audit-receipt/v1\n", Encoding.ASCII.GetString(AuditReceipt.SignedBytes("{}"u8)));
    }

    [Theory]
    [InlineData("keyward_keyserver", true, true)] // carried, receipt verified
    [InlineData("keyward_keyserver", false, false)] // carried without a receipt that holds
    [InlineData("keyward_certificate_authority", false, true)] // the CA's own outbox needs no receipt
    [InlineData("keyward_metadata", true, false)] // only the keyserver carries the CA's events
    [InlineData("keyward_gateway", true, false)]
    public void Only_the_keyserver_carries_CA_events_and_only_with_a_receipt(string publisher, bool receiptVerified, bool accepted) =>
        Assert.Equal(accepted, Policy.Check(publisher, CaEvent("ca.certificate.signed"), receiptVerified) is null);

    [Fact]
    public void A_receipt_does_not_let_the_keyserver_say_another_service_s_kinds()
    {
        var gatewayEvent = CaEvent("ocs.client.refused") with { Service = "gateway" };
        Assert.False(Policy.IsCarried("keyward_keyserver", gatewayEvent));
        Assert.NotNull(Policy.Check("keyward_keyserver", gatewayEvent, receiptVerified: true));
        // And a CA event must still be a CA kind.
        Assert.NotNull(Policy.Check("keyward_keyserver", CaEvent("keys.certificate.issued"), receiptVerified: true));
    }

    [Fact]
    public async Task The_log_key_is_asked_once_and_forged_receipts_do_not_make_the_verifier_ask_again()
    {
        using var logKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keys = new CountingKeys(logKey);
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var verifier = new ReceiptVerifier(keys, clock);

        Assert.True(await verifier.VerifyAsync(Receipted(CaEvent("ca.certificate.signed"), logKey), default));
        for (var i = 0; i < 100; i++)
        {
            Assert.False(await verifier.VerifyAsync(Receipted(CaEvent("ca.certificate.signed"), forger), default));
        }

        Assert.True(await verifier.VerifyAsync(Receipted(CaEvent("ca.certificate.reissued"), logKey), default));
        Assert.Equal(1, keys.Asked);

        // After the interval a failing receipt asks again (the key may have been replaced), and still fails.
        clock.Now += ReceiptVerifier.RefreshInterval;
        Assert.False(await verifier.VerifyAsync(Receipted(CaEvent("ca.certificate.signed"), forger), default));
        Assert.Equal(2, keys.Asked);
        Assert.False(await verifier.VerifyAsync(CaEvent("ca.certificate.signed"), default));
        Assert.Equal(2, keys.Asked);
    }

    private static AuditEvent Receipted(AuditEvent auditEvent, ECDsa key) => auditEvent with
    {
        Receipt = Convert.ToBase64String(key.SignData(AuditReceipt.SignedBytes(CanonicalAuditEvent.ToBytes(auditEvent)), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)),
    };

    private static AuditEvent CaEvent(string action) => new()
    {
        EventId = Guid.CreateVersion7(),
        TenantId = "tenant-a",
        OccurredAt = DateTimeOffset.UnixEpoch,
        Actor = new AuditActor("alice", ["service"], null, null),
        Action = action,
        Target = new AuditTarget("user", "alice"),
        Outcome = AuditOutcome.Success,
        Details = new Dictionary<string, string> { ["serial"] = "01", ["fingerprint_sha256"] = "ab" },
        Service = "certificate-authority",
    };

    private sealed class CountingKeys(ECDsa key) : IReceiptKeys
    {
        public int Asked { get; private set; }

        public Task<string> LogKeyPemAsync(string tenantId, CancellationToken cancellationToken)
        {
            Asked++;
            return Task.FromResult(key.ExportSubjectPublicKeyInfoPem());
        }
    }
}
