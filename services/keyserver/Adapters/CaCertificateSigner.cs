using Grpc.Core;
using Keyward.AuditTrail;
using Keyward.CertificateAuthority.V1;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Keyserver.Core;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.Keyserver.Adapters;

/// <summary>
/// The tenant CA over gRPC, called with a token of the service identity (the CA signs for nobody else). Its
/// refusals become this service's own; an absent CA is an outage. The CA hands back the audit events of what it
/// signed, with receipts, and the keyserver commits them with the certificate.
/// </summary>
public sealed class CaCertificateSigner(CaClient ca, ServiceTokens tokens, TenantContext caller) : ICertificateSigner
{
    public Task<SignedCertificate> SignAsync(string userId, string csrPem, CancellationToken cancellationToken) =>
        CallAsync(new SignUserCsrRequest { UserId = userId, CsrPem = csrPem, ReturnAuditEvents = true }, cancellationToken);

    public Task<SignedCertificate> ReissueAsync(string userId, string currentPem, CancellationToken cancellationToken) =>
        CallAsync(new SignUserCsrRequest { UserId = userId, ReissueCertificatePem = currentPem, ReturnAuditEvents = true }, cancellationToken);

    private async Task<SignedCertificate> CallAsync(SignUserCsrRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {tokens.For(caller.TenantId)}" } };
            var signed = await ca.SignUserCsrAsync(request, headers, cancellationToken: cancellationToken);
            return new SignedCertificate(signed.CertificatePem, signed.SerialNumber, signed.FingerprintSha256, signed.AuditEvents.Select(Carried).ToList());
        }
        catch (RpcException e) when (e.AsRefusal() is { } refusal)
        {
            throw refusal;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable)
        {
            throw new DependencyUnavailableException(e.Reason() is Common.V1.RefusalReason.HsmUnavailable ? e.Reason() : Common.V1.RefusalReason.DependencyUnavailable,
                $"the certificate authority is not available: {e.Status.Detail}", e);
        }
    }

    /// <summary>A CA event as the outbox keeps it: the canonical event of this tenant, its receipt alongside (checked by the audit service).</summary>
    private AuditEvent Carried(ReceiptedAuditEvent received) =>
        CanonicalAuditEventReader.TryParse(received.CanonicalEvent.Span, out var auditEvent) && auditEvent.TenantId == caller.TenantId && received.Receipt.Length > 0
            ? auditEvent with { Receipt = Convert.ToBase64String(received.Receipt.Span) }
            : throw new DependencyUnavailableException(Common.V1.RefusalReason.DependencyUnavailable, "the certificate authority returned an audit event that is not a canonical event of this tenant");
}
