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
    /// caller's own bearer token: the called service checks it again and acts for the same user. Several addresses
    /// (replicas) are balanced round-robin by the channel over those that answer (<see cref="ServiceAddresses"/>).
    /// </summary>
    public static IHttpClientBuilder AddKeywardGrpcClient<TClient>(this WebApplicationBuilder builder, string service)
        where TClient : class
    {
        var addresses = ServiceAddresses.Parse(service, builder.Configuration[$"Keyward:Services:{service}"]);
        var timeout = builder.Configuration.GetValue(CallTimeoutKey, TimeSpan.FromSeconds(30));
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddTransient<CallerTokenForwarding>();
        // Made once: the factory configures a new channel each time it renews the client's handler.
        var resolvers = addresses.Count > 1 ? Resolvers(addresses) : null;
        return builder.Services
            .AddGrpcClient<TClient>(o => o.Address = addresses.Count == 1 ? addresses[0] : new Uri($"static:///{service}"))
            .ConfigureChannel(o =>
            {
                o.MaxReceiveMessageSize = 4 * 1024 * 1024;
                if (resolvers is not null)
                {
                    Balance(o, resolvers, addresses[0].Scheme);
                }
            })
            .AddInterceptor(() => new CallDeadline(timeout))
            .AddHttpMessageHandler<CallerTokenForwarding>()
            // The factory's logging handlers wrap every call in a log scope and timers for lines that are
            // switched off (Warning and up only); the called service logs each request itself.
            .RemoveAllLoggers();
    }

    /// <summary>
    /// Client-side balancing over replicas (Grpc.Net.Client's static resolver and round-robin policy): a replica that
    /// stops answering drops out of the picks until it answers again, and a call that found it dead is retried.
    /// </summary>
    private static void Balance(global::Grpc.Net.Client.GrpcChannelOptions options, IServiceProvider resolvers, string scheme)
    {
        options.ServiceProvider = resolvers;
        options.Credentials = scheme == "https" ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        options.ServiceConfig = new global::Grpc.Net.Client.Configuration.ServiceConfig
        {
            LoadBalancingConfigs = { new global::Grpc.Net.Client.Configuration.RoundRobinConfig() },
            // A call picked for a replica that has just died fails UNAVAILABLE before it reached any service code; it is
            // tried again (on the next replica) rather than answered 503. A service's own UNAVAILABLE (its database or HSM
            // away) is tried twice more as well, which costs an outage a fraction of a second and changes nothing.
            MethodConfigs =
            {
                new global::Grpc.Net.Client.Configuration.MethodConfig
                {
                    Names = { global::Grpc.Net.Client.Configuration.MethodName.Default },
                    RetryPolicy = new global::Grpc.Net.Client.Configuration.RetryPolicy
                    {
                        MaxAttempts = 3,
                        InitialBackoff = TimeSpan.FromMilliseconds(50),
                        MaxBackoff = TimeSpan.FromMilliseconds(500),
                        BackoffMultiplier = 2,
                        RetryableStatusCodes = { StatusCode.Unavailable },
                    },
                },
            },
        };
    }

    /// <summary>The static resolver that names the replicas to the channel.</summary>
    private static ServiceProvider Resolvers(IReadOnlyList<Uri> addresses)
    {
        var balancing = new ServiceCollection();
        balancing.AddSingleton<global::Grpc.Net.Client.Balancer.ResolverFactory>(new global::Grpc.Net.Client.Balancer.StaticResolverFactory(
            _ => addresses.Select(a => new global::Grpc.Net.Client.Balancer.BalancerAddress(a.Host, a.Port)).ToArray()));
        return balancing.BuildServiceProvider();
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
