using System.Threading.RateLimiting;
using Keyward.Common.Auth;
using Keyward.Common.Errors;

namespace Keyward.Common.Limits;

/// <summary>A token bucket: <see cref="Burst"/> requests at once, refilled at <see cref="PerMinute"/>.</summary>
public sealed class RateBudget
{
    public int Burst { get; set; }

    public int PerMinute { get; set; }

    public RateBudget()
    {
    }

    public RateBudget(int burst, int perMinute)
    {
        Burst = burst;
        PerMinute = perMinute;
    }

    public bool IsValid => Burst > 0 && PerMinute > 0;

    /// <summary>
    /// Whole tokens per period: at least once a minute budgets refill a token at a time, faster ones every second (the
    /// partitioned limiter replenishes on a 100 ms timer, so shorter periods would not be kept anyway).
    /// </summary>
    public TokenBucketRateLimiterOptions ToOptions() => new()
    {
        TokenLimit = Burst,
        TokensPerPeriod = PerMinute >= 60 ? PerMinute / 60 : 1,
        ReplenishmentPeriod = PerMinute >= 60 ? TimeSpan.FromSeconds(1) : TimeSpan.FromMinutes(1.0 / PerMinute),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}

/// <summary>
/// A budget per caller (tenant and user) held in this process, for a service's own expensive work: <see cref="Take"/>
/// throws the refusal that reaches the caller as RESOURCE_EXHAUSTED (429 with Retry-After at the edge).
/// </summary>
public sealed class CallerBudget(RateBudget budget, string what) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _perCaller = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => budget.ToOptions()));

    /// <exception cref="Refusal">The caller spent the budget; the refusal says when to try again.</exception>
    public void Take(TenantContext caller)
    {
        using var lease = _perCaller.AttemptAcquire($"{caller.TenantId}\n{caller.UserId}");
        if (!lease.IsAcquired)
        {
            throw Refusal.Exhausted($"too many {what} by this user; try again later",
                lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1));
        }
    }

    public void Dispose() => _perCaller.Dispose();
}
