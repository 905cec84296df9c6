using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.ClientFactory;
using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Keyward.Common.Grpc;

public static class ServiceClients
{
    /// <summary>Carries the original caller's User-Agent from the gateway to the services, for the audit trail.</summary>
    public const string ForwardedUserAgentHeader = "x-keyward-user-agent";

    /// <summary>
    /// A gRPC client for another Keyward service at <c>Keyward:Services:&lt;service&gt;</c>, carrying the
    /// caller's own bearer token: the called service checks it again and acts for the same user.
    /// </summary>
    public static IHttpClientBuilder AddKeywardGrpcClient<TClient>(this WebApplicationBuilder builder, string service)
        where TClient : class
    {
        var address = builder.Configuration[$"Keyward:Services:{service}"]
            ?? throw new InvalidOperationException($"Keyward:Services:{service} (the service's gRPC address) is not configured.");
        var timeout = builder.Configuration.GetValue(CallTimeoutKey, TimeSpan.FromSeconds(30));
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddTransient<CallerTokenForwarding>();
        return builder.Services
            .AddGrpcClient<TClient>(o => o.Address = new Uri(address))
            .ConfigureChannel(o => o.MaxReceiveMessageSize = 4 * 1024 * 1024)
            .AddInterceptor(() => new CallDeadline(timeout))
            .AddHttpMessageHandler<CallerTokenForwarding>()
            // The factory's logging handlers wrap every call in a log scope and timers for lines that are
            // switched off (Warning and up only); the called service logs each request itself.
            .RemoveAllLoggers();
    }

    /// <summary>How long a call to another service may take before it is DEADLINE_EXCEEDED (answered 504 by the gateway).</summary>
    public const string CallTimeoutKey = "Keyward:Grpc:CallTimeout";

    /// <summary>Gives every call without a deadline the configured one: a hung service never hangs its callers.</summary>
    private sealed class CallDeadline(TimeSpan timeout) : Interceptor
    {
        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
            AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
            continuation(request, context.Options.Deadline is null
                ? new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithDeadline(DateTime.UtcNow + timeout))
                : context);
    }

    /// <summary>Copies the incoming Authorization header, the caller's address and User-Agent onto the outgoing call.</summary>
    private sealed class CallerTokenForwarding(IHttpContextAccessor accessor) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var incoming = accessor.HttpContext;
            var authorization = incoming?.Request.Headers[HeaderNames.Authorization].ToString();
            // A call made with its own token (a service identity) keeps it.
            if (!string.IsNullOrEmpty(authorization) && !request.Headers.Contains(HeaderNames.Authorization))
            {
                request.Headers.TryAddWithoutValidation(HeaderNames.Authorization, authorization);
            }

            if (incoming is not null)
            {
                var userAgent = incoming.Request.Headers[ForwardedUserAgentHeader].ToString() is { Length: > 0 } forwarded ? forwarded : incoming.Request.Headers.UserAgent.ToString();
                request.Headers.TryAddWithoutValidation(ForwardedUserAgentHeader, userAgent);
                // The forwarded-headers middleware has already put a trusted proxy's client address here.
                var address = incoming.Connection.RemoteIpAddress?.ToString();
                if (!string.IsNullOrEmpty(address))
                {
                    request.Headers.TryAddWithoutValidation("X-Forwarded-For", address);
                }
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
