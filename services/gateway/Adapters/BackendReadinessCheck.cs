using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Keyward.Gateway.Adapters;

/// <summary>The gateway is ready when each service behind it reports SERVING on its gRPC health service.</summary>
public sealed class BackendReadinessCheck(GrpcChannel channel) : IHealthCheck
{
    private readonly Health.HealthClient _client = new(channel);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var reply = await _client.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(3), cancellationToken: cancellationToken);
            return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving
                ? HealthCheckResult.Healthy("serving")
                : HealthCheckResult.Unhealthy($"reports {reply.Status}");
        }
        catch (Grpc.Core.RpcException e)
        {
            return HealthCheckResult.Unhealthy($"unreachable ({e.StatusCode})");
        }
    }
}
