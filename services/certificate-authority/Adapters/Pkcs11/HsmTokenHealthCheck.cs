using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Keyward.CertificateAuthority.Adapters.Pkcs11;

/// <summary>Ready when a logged-in session on the configured token answers.</summary>
public sealed class HsmTokenHealthCheck(Pkcs11Token token) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            token.Run(session => session.GetSessionInfo());
            return Task.FromResult(HealthCheckResult.Healthy("token answers"));
        }
        catch (Exception e) when (e is HsmUnavailableException or Net.Pkcs11Interop.Common.Pkcs11Exception)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("HSM token not available"));
        }
    }
}
