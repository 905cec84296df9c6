using Grpc.Core;
using Keyward.CertificateAuthority.V1;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Keyserver.Core;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.Keyserver.Adapters;

/// <summary>
/// The tenant CA over gRPC, called with a token of the service identity (the CA signs for nobody else). Its
/// refusals become this service's own; an absent CA is an outage.
/// </summary>
public sealed class CaCertificateSigner(CaClient ca, ServiceTokens tokens, TenantContext caller) : ICertificateSigner
{
    public Task<SignedCertificate> SignAsync(string userId, string csrPem, CancellationToken cancellationToken) =>
        CallAsync(new SignUserCsrRequest { UserId = userId, CsrPem = csrPem }, cancellationToken);

    public Task<SignedCertificate> ReissueAsync(string userId, string currentPem, CancellationToken cancellationToken) =>
        CallAsync(new SignUserCsrRequest { UserId = userId, ReissueCertificatePem = currentPem }, cancellationToken);

    private async Task<SignedCertificate> CallAsync(SignUserCsrRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {tokens.For(caller.TenantId)}" } };
            var signed = await ca.SignUserCsrAsync(request, headers, cancellationToken: cancellationToken);
            return new SignedCertificate(signed.CertificatePem, signed.SerialNumber, signed.FingerprintSha256);
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
}
