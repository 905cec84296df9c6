using Keyward.Common.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Keyward.Common.Hosting;

/// <summary>
/// What a plain HTTP endpoint (not gRPC: those go through <see cref="Grpc.RefusalInterceptor"/>) answers when it
/// throws: an outage 503 with Retry-After, anything else 500 with a correlation id, the exception only in the log.
/// </summary>
public sealed class FaultResponses(ILogger<FaultResponses> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted)
        {
            return false;
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
