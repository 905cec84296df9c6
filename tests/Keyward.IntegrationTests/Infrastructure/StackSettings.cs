using Keyward.LocalServices;
using Npgsql;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>
/// Where the real PostgreSQL, RabbitMQ and SoftHSM token for the tests are: environment variables first,
/// then <c>.stack/env</c> written by <c>scripts/stack up</c>, then containers when a Docker engine is
/// reachable. Without any of them the tests fail and say how to start the stack.
/// </summary>
public sealed record StackSettings(
    StackValues Values,
    string RepositoryRoot,
    string Postgres,
    string RabbitMq,
    string SoftHsmConf,
    string HsmModule,
    string HsmToken,
    string HsmPin,
    string DevTenant,
    string DevIssuer,
    string DevJwtPrivateKey,
    string DevJwtPublicKey)
{
    public const string HowToStart = "The local stack is not running. Start it with `scripts/stack up` (or run all tests with `scripts/test`, which starts it).";

    public static async Task<StackSettings> LoadAsync()
    {
        var root = RepositoryRootPath();
        var values = StackValues.Load(root);
        string? Value(string name) => values[name];

        var postgres = Value("KEYWARD_POSTGRES_TEST");
        var rabbit = Value("KEYWARD_RABBITMQ_TEST");
        if (postgres is null || rabbit is null)
        {
            if (!ContainerStack.DockerIsReachable())
            {
                throw new InvalidOperationException(HowToStart);
            }

            (postgres, rabbit) = await ContainerStack.StartAsync();
            // Where the services' wiring (tools/Keyward.LocalServices) looks first.
            Environment.SetEnvironmentVariable("KEYWARD_POSTGRES_TEST", postgres);
            Environment.SetEnvironmentVariable("KEYWARD_RABBITMQ_TEST", rabbit);
        }

        await EnsureReachableAsync(postgres);
        return new StackSettings(
            values,
            root,
            postgres,
            rabbit,
            Value("SOFTHSM2_CONF") ?? throw new InvalidOperationException(HowToStart),
            Value("KEYWARD_HSM_MODULE") ?? "/usr/lib/softhsm/libsofthsm2.so",
            Value("KEYWARD_HSM_TOKEN_TEST") ?? throw new InvalidOperationException(HowToStart),
            Value("KEYWARD_HSM_PIN") ?? throw new InvalidOperationException(HowToStart),
            Value("KEYWARD_DEV_TENANT") ?? "dev",
            Value("KEYWARD_DEV_ISSUER") ?? throw new InvalidOperationException(HowToStart),
            Value("KEYWARD_DEV_JWT_KEY") ?? throw new InvalidOperationException(HowToStart),
            Value("KEYWARD_DEV_JWT_PUBLIC_KEY") ?? throw new InvalidOperationException(HowToStart));
    }

    public static string RepositoryRootPath() => StackValues.FindRepositoryRoot(AppContext.BaseDirectory);

    private static async Task EnsureReachableAsync(string postgres)
    {
        try
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(postgres) { Timeout = 3 }.ConnectionString);
            await connection.OpenAsync();
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new InvalidOperationException($"{HowToStart} (PostgreSQL did not answer: {e.Message})", e);
        }
    }
}
