using Keyward.Common.Errors;
using Keyward.Gateway.Core;
using Yarp.ReverseProxy.Configuration;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Keyward.Gateway.Api;

/// <summary>
/// YARP routes: gRPC by proto package (HTTP/2 port) and JSON-transcoded REST by path prefix
/// (HTTP/1.1 port) to the owning service, which listens h2c. Every route requires a valid token here,
/// and the service checks it again.
/// </summary>
public static class ProxyRoutes
{
    public static (IReadOnlyList<RouteConfig> Routes, IReadOnlyList<ClusterConfig> Clusters) Build(IReadOnlyDictionary<string, IReadOnlyList<Uri>> addresses)
    {
        var routes = new List<RouteConfig>();
        var clusters = new List<ClusterConfig>();
        foreach (var backend in Backend.All)
        {
            if (!addresses.TryGetValue(backend.Name, out var replicas))
            {
                throw new InvalidOperationException($"Keyward:Services:{backend.Name} (the service's gRPC address) is not configured.");
            }

            clusters.Add(new ClusterConfig
            {
                ClusterId = backend.Name,
                Destinations = replicas.Select((address, i) => (Name: i == 0 ? "primary" : $"replica-{i}", Address: address))
                    .ToDictionary(d => d.Name, d => new DestinationConfig { Address = d.Address.ToString() }),
                // Over replicas: round-robin among those the active probe finds answering (/healthz on the gRPC port, h2c).
                LoadBalancingPolicy = replicas.Count > 1 ? LoadBalancingPolicies.RoundRobin : null,
                HealthCheck = replicas.Count > 1 ? new HealthCheckConfig
                {
                    Active = new ActiveHealthCheckConfig { Enabled = true, Interval = TimeSpan.FromSeconds(2), Timeout = TimeSpan.FromSeconds(2), Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures, Path = "/healthz" },
                    AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyOrPanic,
                } : null,
                HttpRequest = new ForwarderRequestConfig
                {
                    Version = new Version(2, 0),
                    VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                },
            });

            if (backend.GrpcPaths is { } grpcPaths)
            {
                routes.AddRange(grpcPaths.Select((path, i) => Route($"{backend.Name}-grpc-{i}", backend, new RouteMatch { Path = path })));
            }
            else
            {
                routes.Add(Route($"{backend.Name}-grpc", backend, new RouteMatch { Path = $"/{backend.ProtoPackage}.{{service}}/{{method}}" }));
            }

            if (backend.RestPaths is { } restPaths)
            {
                routes.AddRange(restPaths.Select((path, i) => Route($"{backend.Name}-rest-{i}", backend, new RouteMatch { Path = path, Methods = ["GET"] })));
            }
            else
            {
                routes.Add(Route($"{backend.Name}-rest", backend, new RouteMatch { Path = $"/v1/{backend.RestPrefix}/{{**rest}}" }));
            }

            routes.AddRange(backend.AlsoServes.Select((path, i) => Route($"{backend.Name}-also-{i}", backend, new RouteMatch { Path = path }) with { Order = -1 }));
            // Ordered before the gateway's own health service, which answers when the header is absent.
            routes.Add(Route($"{backend.Name}-health", backend, new RouteMatch
            {
                Path = "/grpc.health.v1.Health/{method}",
                Headers = [new RouteHeader { Name = Backend.ServiceHeader, Values = [backend.Name], Mode = HeaderMatchMode.ExactHeader }],
            }) with { Order = -1 });
        }

        return (routes, clusters);
    }

    /// <summary>An outage answered 503 by a service (UNAVAILABLE) tells REST callers when to retry, as OCS answers do.</summary>
    public static void RetryAfterOnOutage(TransformBuilderContext context) =>
        context.AddResponseTransform(transform =>
        {
            var response = transform.HttpContext.Response;
            if (response.StatusCode == StatusCodes.Status503ServiceUnavailable && !response.Headers.ContainsKey(HeaderNames.RetryAfter))
            {
                response.Headers.RetryAfter = Faults.RetryAfter;
            }

            return ValueTask.CompletedTask;
        });

    /// <summary>
    /// A service that cannot be reached at all (not started, restarting) is an outage too: 503 with Retry-After, not
    /// YARP's 502 with an empty body.
    /// </summary>
    public static async Task AnswerAbsentServiceAsync(HttpContext context, Func<Task> next)
    {
        await next();
        if (context.GetForwarderErrorFeature() is { Error: ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.NoAvailableDestinations }
            && !context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = Faults.RetryAfter;
            await context.Response.WriteAsJsonAsync(new { error = "unavailable", message = Common.Grpc.RefusalInterceptor.UnavailableMessage(Common.V1.RefusalReason.DependencyUnavailable) });
        }
    }

    private static RouteConfig Route(string id, Backend backend, RouteMatch match) => new()
    {
        RouteId = id,
        ClusterId = backend.Name,
        Match = match,
        AuthorizationPolicy = "default",
    };
}
