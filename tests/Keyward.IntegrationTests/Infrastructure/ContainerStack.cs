using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>PostgreSQL and RabbitMQ in containers, for machines with a Docker engine and no local stack.</summary>
internal static class ContainerStack
{
    private static PostgreSqlContainer? _postgres;
    private static RabbitMqContainer? _rabbit;

    public static bool DockerIsReachable() =>
        File.Exists("/var/run/docker.sock") || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST"));

    public static async Task<(string Postgres, string RabbitMq)> StartAsync()
    {
        _postgres = new PostgreSqlBuilder().WithImage("postgres:15").Build();
        _rabbit = new RabbitMqBuilder().WithImage("rabbitmq:3.10").Build();
        try
        {
            await Task.WhenAll(_postgres.StartAsync(), _rabbit.StartAsync());
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{StackSettings.HowToStart} (containers could not start: {e.Message})", e);
        }

        return (_postgres.GetConnectionString(), _rabbit.GetConnectionString());
    }
}
