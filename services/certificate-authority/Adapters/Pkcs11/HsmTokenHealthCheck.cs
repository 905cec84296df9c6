using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Keyward.CertificateAuthority.Adapters.Pkcs11;

/// <summary>
/// Ready when the CA could sign now (<see cref="Pkcs11TenantKeys.ProbeSigning"/>: a key handle still valid, no
/// signature made). The answer is kept for <see cref="CachedFor"/> so that frequent probes cost the HSM nothing more.
/// One instance per process (registered as a singleton).
/// </summary>
public sealed class HsmTokenHealthCheck(Pkcs11TenantKeys keys) : IHealthCheck
{
    public static readonly TimeSpan CachedFor = TimeSpan.FromSeconds(1);
    // A reference, so that concurrent probes read a whole answer or none.
    private Answer? _last;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _last) is { } last && Stopwatch.GetElapsedTime(last.Timestamp) < CachedFor)
        {
            return Task.FromResult(last.Result);
        }

        HealthCheckResult result;
        try
        {
            keys.ProbeSigning();
            result = HealthCheckResult.Healthy("the HSM can sign");
        }
        catch (Exception e) when (e is HsmUnavailableException or Net.Pkcs11Interop.Common.Pkcs11Exception)
        {
            result = HealthCheckResult.Unhealthy("the HSM cannot sign now");
        }

        Volatile.Write(ref _last, new Answer(Stopwatch.GetTimestamp(), result));
        return Task.FromResult(result);
    }

    private sealed record Answer(long Timestamp, HealthCheckResult Result);
}
