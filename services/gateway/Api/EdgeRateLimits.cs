using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Keyward.Common.Auth;
using Keyward.Common.Limits;
using Keyward.Gateway.Core;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Keyward.Gateway.Api;

/// <summary>
/// The gateway's rate limits (<see cref="EdgeLimitOptions"/>), on ASP.NET Core's rate limiter: per source address
/// for refused tokens (checked before a token is read, so a flood of forged tokens costs no signature checks) and
/// for unauthenticated requests; per user and per tenant for certificate signing; per user for enrollment and
/// metadata writes. A refusal is 429 with Retry-After, in the caller's protocol (the OCS envelope on OCS paths).
/// </summary>
public static class EdgeRateLimits
{
    public static WebApplicationBuilder AddEdgeRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<EdgeLimitOptions>().Bind(builder.Configuration.GetSection(EdgeLimitOptions.Section))
            .Validate(o => o.IsValid(), $"{EdgeLimitOptions.Section}: every budget needs a positive Burst and PerMinute.")
            .ValidateOnStart();
        builder.Services.AddSingleton<RefusedTokenBudget>();
        builder.Services.AddSingleton<IRefusedTokenObserver>(sp => sp.GetRequiredService<RefusedTokenBudget>());
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<EdgeLimitOptions>, ILoggerFactory>((options, limits, logs) =>
        {
            var l = limits.Value;
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                Budget(l.UnauthenticatedPerSource, http => http.User.Identity?.IsAuthenticated == true || IsProbe(http) ? null : Source(http)),
                Budget(l.CertificateSigningPerUser, http => Spends(http, EdgeLimit.CertificateSigning) ? User(http) : null),
                Budget(l.CertificateSigningPerTenant, http => Spends(http, EdgeLimit.CertificateSigning) ? http.User.FindFirst(TenantContext.TenantClaim)?.Value : null),
                Budget(l.EnrollmentPerUser, http => Spends(http, EdgeLimit.Enrollment) ? User(http) : null),
                Budget(l.MetadataWritesPerUser, http => Spends(http, EdgeLimit.MetadataWrite) ? User(http) : null));
            var logger = logs.CreateLogger(typeof(EdgeRateLimits));
            options.OnRejected = (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                logger.LogWarning("Rate limited {Method} {Path} from {Source}", context.HttpContext.Request.Method, context.HttpContext.Request.Path.Value, Source(context.HttpContext));
                return new ValueTask(WriteTooManyAsync(context.HttpContext, retryAfter));
            };
        });
        return builder;
    }

    /// <summary>Before authentication: a source that spent its refused-token budget is answered 429 unless its token was accepted before.</summary>
    public static void UseRefusedTokenBudget(WebApplication app)
    {
        var budget = app.Services.GetRequiredService<RefusedTokenBudget>();
        var validator = app.Services.GetRequiredService<TenantTokenValidator>();
        app.Use(async (http, next) =>
        {
            if (http.Request.Headers.Authorization.ToString() is { Length: > 7 } header
                && budget.IsSpent(Source(http), out var retryAfter)
                && !validator.IsKnownGood(header["Bearer ".Length..].Trim()))
            {
                await WriteTooManyAsync(http, retryAfter);
                return;
            }

            await next(http);
        });
    }

    /// <summary>After authentication, before authorization answers: the budgets of <see cref="EdgeLimitOptions"/>.</summary>
    public static void UseEdgeBudgets(WebApplication app) => app.UseRateLimiter();

    public static Task WriteTooManyAsync(HttpContext http, TimeSpan retryAfter)
    {
        const string message = "Too many requests, try again later";
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        http.Response.Headers.RetryAfter = seconds;
        if (http.Request.Path.StartsWithSegments("/ocs"))
        {
            return OcsResult.Write(http, OcsResult.FlavorOf(http.Request.Path), OcsAnswer.Thrown(429, message));
        }

        if (AuthenticationFailureResponse.IsGrpc(http.Request))
        {
            AuthenticationFailureResponse.WriteGrpcStatus(http, grpcStatus: 8, message); // RESOURCE_EXHAUSTED
            return Task.CompletedTask;
        }

        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        return http.Response.WriteAsJsonAsync(new { error = "rate_limited", message, retry_after_seconds = int.Parse(seconds, CultureInfo.InvariantCulture) });
    }

    private static PartitionedRateLimiter<HttpContext> Budget(RateBudget budget, Func<HttpContext, string?> key) =>
        PartitionedRateLimiter.Create<HttpContext, string>(http => key(http) is { } partition
            ? RateLimitPartition.GetTokenBucketLimiter(partition, _ => budget.ToOptions())
            : RateLimitPartition.GetNoLimiter(""));

    private const string LimitItem = "keyward.edge-limit";

    /// <summary>Whether an authenticated request spends <paramref name="limit"/>; the request is classified once, for all the budgets.</summary>
    private static bool Spends(HttpContext http, EdgeLimit limit)
    {
        if (http.User.Identity?.IsAuthenticated != true)
        {
            return false;
        }

        if (!http.Items.TryGetValue(LimitItem, out var classified))
        {
            http.Items[LimitItem] = classified = EdgeLimitClassifier.Classify(http.Request.Method, http.Request.Path.Value ?? "");
        }

        return classified is EdgeLimit spent && spent == limit;
    }

    private static string? User(HttpContext http) =>
        http.User.FindFirst(TenantContext.TenantClaim)?.Value is { } tenant && http.User.FindFirst(TenantContext.SubjectClaim)?.Value is { } user ? $"{tenant}\n{user}" : null;

    private static bool IsProbe(HttpContext http) => http.Request.Path.StartsWithSegments("/healthz") || http.Request.Path.StartsWithSegments("/readyz");

    public static string Source(HttpContext http) => http.Connection.RemoteIpAddress is { } address
        ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
        : "unknown";
}

/// <summary>How many refused tokens each source address may still send (<see cref="EdgeLimitOptions.RefusedTokensPerSource"/>).</summary>
public sealed class RefusedTokenBudget(IOptions<EdgeLimitOptions> options) : IRefusedTokenObserver, IDisposable
{
    private readonly PartitionedRateLimiter<string> _perSource = PartitionedRateLimiter.Create<string, string>(source =>
        RateLimitPartition.GetTokenBucketLimiter(source, _ => options.Value.RefusedTokensPerSource.ToOptions()));

    // How long one refused token takes to come back: the answer's Retry-After.
    private readonly TimeSpan _refill = options.Value.RefusedTokensPerSource.ToOptions().ReplenishmentPeriod;

    public Task RefusedAsync(HttpContext context, TokenCheck refusal)
    {
        using var _ = _perSource.AttemptAcquire(EdgeRateLimits.Source(context));
        return Task.CompletedTask;
    }

    /// <summary>True when the source has no refused token left; then about how long until it has one.</summary>
    public bool IsSpent(string source, out TimeSpan retryAfter)
    {
        // The statistics, not a zero-permit lease: a zero-permit probe of a token bucket reports success again a
        // moment after the bucket ran dry (System.Threading.RateLimiting 10), although no token was added.
        retryAfter = _refill;
        return _perSource.GetStatistics(source) is { CurrentAvailablePermits: < 1 };
    }

    public void Dispose() => _perSource.Dispose();
}
