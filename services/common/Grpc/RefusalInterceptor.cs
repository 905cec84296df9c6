using Grpc.Core;
using Grpc.Core.Interceptors;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Microsoft.Extensions.Logging;

namespace Keyward.Common.Grpc;

/// <summary>
/// The one place where a service's exceptions become gRPC statuses: a <see cref="Refusal"/> its kind and
/// reason; an outage (database, HSM, another service away) UNAVAILABLE; a passed deadline DEADLINE_EXCEEDED;
/// anything else INTERNAL with a correlation id, the exception itself only in this service's log.
/// </summary>
public sealed class RefusalInterceptor(ILogger<RefusalInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Translate(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Translate(e, context);
        }
    }

    private RpcException Translate(Exception error, ServerCallContext context)
    {
        if (error is Refusal refusal)
        {
            return refusal.ToRpcException();
        }

        if (Faults.Outage(error) is { } reason)
        {
            logger.LogWarning("{Method} could not be served: {Reason} ({Error})", context.Method, RefusalReasons.Name(reason), error.Message);
            return KeywardError.Create(StatusCode.Unavailable, reason, UnavailableMessage(reason));
        }

        if (error is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return context.Deadline <= DateTime.UtcNow
                ? KeywardError.Create(StatusCode.DeadlineExceeded, RefusalReason.DeadlineExceeded, "the call's deadline passed before it was served")
                : new RpcException(new Status(StatusCode.Cancelled, "the caller cancelled the call"));
        }

        var correlationId = Faults.CorrelationId(context.GetHttpContext());
        logger.LogError(error, "{Method} failed unexpectedly (correlation id {CorrelationId})", context.Method, correlationId);
        return KeywardError.Create(StatusCode.Internal, RefusalReason.Internal, $"unexpected error (correlation id {correlationId})",
            new Dictionary<string, string> { [KeywardError.CorrelationIdKey] = correlationId });
    }

    public static string UnavailableMessage(RefusalReason reason) => reason switch
    {
        RefusalReason.StoreUnavailable => "the database is not available; try again later",
        RefusalReason.HsmUnavailable => "the HSM is not available; try again later",
        _ => "a service this call needs is not available; try again later",
    };
}
