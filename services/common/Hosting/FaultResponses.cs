using Keyward.Common.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Keyward.Common.Hosting;

/// <summary>
/// What a plain HTTP endpoint (not gRPC: those go through <see cref="Grpc.RefusalInterceptor"/>) answers when it
/// throws: a refusal its 4xx with the reason, an outage 503 with Retry-After, anything else 500 with a correlation id, the exception only in the log.
/// </summary>
public sealed class FaultResponses(ILogger<FaultResponses> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted)
        {
            return false;
        }

        if (exception is Refusal refusal)
        {
            // The same statuses gRPC JSON transcoding gives these kinds, so REST callers see one convention.
            context.Response.StatusCode = refusal.Kind switch
            {
                RefusalKind.InvalidArgument => StatusCodes.Status400BadRequest,
                RefusalKind.NotFound => StatusCodes.Status404NotFound,
                RefusalKind.AlreadyExists => StatusCodes.Status409Conflict,
                RefusalKind.PermissionDenied => StatusCodes.Status403Forbidden,
                RefusalKind.FailedPrecondition => StatusCodes.Status400BadRequest,
                _ => StatusCodes.Status429TooManyRequests,
            };
            await context.Response.WriteAsJsonAsync(new { error = RefusalReasons.Name(refusal.Reason), message = refusal.Message }, cancellationToken);
            return true;
        }

        if (Faults.Outage(exception) is { } reason)
        {
            logger.LogWarning("{Path} could not be served: {Reason} ({Error})", context.Request.Path, RefusalReasons.Name(reason), exception.Message);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = Faults.RetryAfter;
            await context.Response.WriteAsJsonAsync(new { error = "unavailable", message = Grpc.RefusalInterceptor.UnavailableMessage(reason) }, cancellationToken);
            return true;
        }

        var correlationId = Faults.CorrelationId(context);
        logger.LogError(exception, "{Path} failed unexpectedly (correlation id {CorrelationId})", context.Request.Path, correlationId);
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        await context.Response.WriteAsJsonAsync(new { error = "internal", message = $"unexpected error (correlation id {correlationId})" }, cancellationToken);
        return true;
    }
}
