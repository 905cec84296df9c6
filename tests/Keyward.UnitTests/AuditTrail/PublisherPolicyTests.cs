using Keyward.Audit.Core;
using Keyward.AuditTrail;

namespace Keyward.UnitTests.AuditTrail;

/// <summary>Each service may log only its own kinds of action, published as its own broker user.</summary>
public sealed class PublisherPolicyTests
{
    private static readonly PublisherPolicy Policy = new(new PublisherOptions());

    [Theory]
    [InlineData("gateway", "keyward_gateway", "webdav.write.refused", true)] // the front door's refused WebDAV writes
    [InlineData("gateway", "keyward_gateway", "ocs.client.refused", true)]
    [InlineData("keyserver", "keyward_keyserver", "webdav.write.refused", false)] // not the keyserver's to say
    [InlineData("gateway", "keyward_gateway", "keys.certificate.issued", false)]
    [InlineData("metadata", "keyward_metadata", "metadata.lock.expired", true)]
    [InlineData("metadata", "keyward_keyserver", "metadata.lock.expired", false)] // another service's broker user
    [InlineData("certificate-authority", "keyward_certificate_authority", "ca.csr.signed", true)]
    public void A_service_says_only_what_is_its_own(string service, string publisher, string action, bool accepted) =>
        Assert.Equal(accepted, Policy.Check(publisher, Event(service, action)) is null);

    private static AuditEvent Event(string service, string action) => new()
    {
        EventId = Guid.CreateVersion7(),
        TenantId = "tenant-a",
        OccurredAt = DateTimeOffset.UnixEpoch,
        Actor = new AuditActor("alice", [], null, null),
        Action = action,
        Target = new AuditTarget("folder", "1"),
        Outcome = AuditOutcome.Denied("LOCK_NOT_HELD"),
        Service = service,
    };
}
