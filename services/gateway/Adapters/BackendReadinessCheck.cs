using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Keyward.Gateway.Adapters;

/// <summary>
/// The gateway is ready when each service behind it reports SERVING on its gRPC health service: at least one replica
/// of it (the gateway balances over those that answer).
/// </summary>
public sealed class BackendReadinessCheck(IReadOnlyList<GrpcChannel> replicas) : IHealthCheck
{
    private readonly List<Health.HealthClient> _clients = replicas.Select(channel => new Health.HealthClient(channel)).ToList();

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var answers = await Task.WhenAll(_clients.Select(client => StatusAsync(client, cancellationToken)));
        var serving = answers.Count(a => a == "serving");
        return serving > 0
            ? HealthCheckResult.Healthy(_clients.Count == 1 ? "serving" : $"{serving} of {_clients.Count} replicas serving")
            : HealthCheckResult.Unhealthy(string.Join(", ", answers));
    }

    private static async Task<string> StatusAsync(Health.HealthClient client, CancellationToken cancellationToken)
    {
        try
        {
            var reply = await client.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(3), cancellationToken: cancellationToken);
            return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving ? "serving" : $"reports {reply.Status}";
        }
        catch (Grpc.Core.RpcException e)
        {
            return $"unreachable ({e.StatusCode})";
        }
    }
}
