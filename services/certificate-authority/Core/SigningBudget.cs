using System.Threading.RateLimiting;

namespace Keyward.CertificateAuthority.Core;

/// <summary>
/// How many user certificates the HSM signs per user and per tenant (<see cref="CaOptions"/>): a budget no real
/// client meets, so that no caller can make the HSM sign without limit. Held in this process (one CA per HSM partition).
/// </summary>
public sealed class SigningBudget(CaOptions options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _perUser = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions { PermitLimit = options.SignaturesPerUserPerHour, Window = TimeSpan.FromHours(1), QueueLimit = 0 }));

    private readonly PartitionedRateLimiter<string> _perTenant = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions { PermitLimit = options.SignaturesPerTenantPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));

    /// <summary>Takes one signature from both budgets; null when granted, else how long to wait.</summary>
    public TimeSpan? TryTake(string tenantId, string userId)
    {
        using var tenant = _perTenant.AttemptAcquire(tenantId);
        if (!tenant.IsAcquired)
        {
            return RetryAfter(tenant, TimeSpan.FromMinutes(1));
        }

        using var user = _perUser.AttemptAcquire($"{tenantId}\n{userId}");
        return user.IsAcquired ? null : RetryAfter(user, TimeSpan.FromHours(1));
    }

    public void Dispose()
    {
        _perUser.Dispose();
        _perTenant.Dispose();
    }

    private static TimeSpan RetryAfter(RateLimitLease lease, TimeSpan window) => lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : window;
}
