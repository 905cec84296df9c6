using Grpc.Core;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Keyward.Gateway.Core;

namespace Keyward.Gateway.Api;

/// <summary>
/// Answers for what no endpoint maps: a refusal by its kind; an outage 503 with Retry-After (the client should
/// wait, not give up); a passed deadline 504; a defect 500 with a correlation id to quote, nothing internal.
/// </summary>
public static class OcsFaults
{
    public static OcsAnswer ForStatus(HttpContext http, RpcException error) => error.StatusCode switch
    {
        StatusCode.Unavailable => Unavailable(),
        StatusCode.DeadlineExceeded => OcsAnswer.Thrown(504, "The service did not answer in time, try again later"),
        StatusCode.Unauthenticated => OcsAnswer.Unauthorised(error.Status.Detail),
        StatusCode.InvalidArgument => OcsAnswer.Thrown(400, error.Status.Detail),
        StatusCode.PermissionDenied => OcsAnswer.Thrown(403, error.Status.Detail),
        StatusCode.NotFound => OcsAnswer.Thrown(404, error.Status.Detail),
        StatusCode.AlreadyExists => OcsAnswer.Bare(409),
        StatusCode.FailedPrecondition => OcsAnswer.Thrown(412, error.Status.Detail),
        StatusCode.ResourceExhausted => OcsAnswer.Thrown(429, error.Status.Detail) with
        {
            Headers = new Dictionary<string, string> { ["Retry-After"] = error.Info()?.Metadata.GetValueOrDefault(Refusal.RetryAfterKey) ?? Faults.RetryAfter },
        },
        _ => Internal(error.Info()?.Metadata.GetValueOrDefault(KeywardError.CorrelationIdKey) ?? Faults.CorrelationId(http)),
    };

    /// <summary>An exception inside the gateway itself (its own audit outbox, a backend answer it cannot read).</summary>
    public static OcsAnswer ForException(HttpContext http, Exception error)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OcsFaults));
        if (Faults.Outage(error) is { } reason)
        {
            logger.LogWarning("{Path} could not be served: {Reason} ({Error})", http.Request.Path, RefusalReasons.Name(reason), error.Message);
            return Unavailable();
        }

        var correlationId = Faults.CorrelationId(http);
        logger.LogError(error, "{Path} failed unexpectedly (correlation id {CorrelationId})", http.Request.Path, correlationId);
        return Internal(correlationId);
    }

    public static OcsAnswer Unavailable() =>
        OcsAnswer.Thrown(503, "Service temporarily unavailable, try again later") with { Headers = new Dictionary<string, string> { ["Retry-After"] = Faults.RetryAfter } };

    private static OcsAnswer Internal(string correlationId) => OcsAnswer.Thrown(500, $"Internal error (correlation id {correlationId})");
}
