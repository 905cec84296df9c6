using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Grpc.Net.Client;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>
/// The whole system for end-to-end tests: the five services started as processes on free loopback
/// ports against the real stack (its test database, test virtual host and test HSM token).
/// </summary>
public sealed class KeywardSystem : IAsyncLifetime
{
    public static readonly (string Name, string Assembly)[] Services =
    [
        ("certificate-authority", "Keyward.CertificateAuthority"),
        ("keyserver", "Keyward.Keyserver"),
        ("metadata", "Keyward.Metadata"),
        ("audit", "Keyward.Audit"),
        ("gateway", "Keyward.Gateway"),
    ];

    private readonly Dictionary<string, ServiceProcess> _processes = new();

    public StackSettings Stack { get; private set; } = null!;

    public TestTenants Tenants { get; private set; } = null!;

    public ServiceProcess Gateway => _processes["gateway"];

    public ServiceProcess Service(string name) => _processes[name];

    public IEnumerable<ServiceProcess> All => _processes.Values;

    /// <summary>The environment every service of this system starts with.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> BaseEnvironment { get; private set; } = [];

    /// <summary>What one service starts with: the common environment, and for the audit service its service-token key.</summary>
    public IEnumerable<KeyValuePair<string, string>> EnvironmentOf(string name) =>
        name == "audit" ? BaseEnvironment.Concat(Tenants.ServiceMinterConfiguration()) : BaseEnvironment;

    /// <summary>Starts one more instance of a service with some settings changed; the caller disposes it.</summary>
    public ServiceProcess StartExtra(string name, string instanceName, IEnumerable<KeyValuePair<string, string>> overrides)
    {
        var assembly = Services.Single(s => s.Name == name).Assembly;
        var changed = overrides.ToDictionary(o => o.Key, o => o.Value);
        var environment = EnvironmentOf(name).Where(e => !changed.ContainsKey(e.Key)).Concat(changed);
        var ports = FreePorts(2);
        return ServiceProcess.Start(Stack.RepositoryRoot, name, assembly, ports[0], ports[1], environment,
            Path.Combine(Stack.RepositoryRoot, ".stack", "logs", "tests", instanceName));
    }

    /// <summary>Kills a service (SIGKILL, no shutdown) and starts it again on the same ports.</summary>
    public async Task<ServiceProcess> RestartAsync(string name, Func<Task>? whileDown = null)
    {
        var old = _processes[name];
        await old.DisposeAsync();
        if (whileDown is not null)
        {
            await whileDown();
        }

        var assembly = Services.Single(s => s.Name == name).Assembly;
        var restarted = ServiceProcess.Start(Stack.RepositoryRoot, name, assembly, old.HttpPort, old.GrpcPort, EnvironmentOf(name),
            Path.Combine(Stack.RepositoryRoot, ".stack", "logs", "tests", $"{name}-restarted"));
        _processes[name] = restarted;
        await WaitUntilReadyAsync(restarted);
        return restarted;
    }

    public static Task WaitUntilReadyAsync(ServiceProcess service) => WaitUntilReadyAsync(service, TimeSpan.FromSeconds(90));

    public async Task InitializeAsync()
    {
        Stack = await StackSettings.LoadAsync();
        Tenants = new TestTenants(Stack);
        var ports = FreePorts(Services.Length * 2);
        var grpcAddresses = Services.Select((s, i) => KeyValuePair.Create($"Keyward__Services__{s.Name}", $"http://127.0.0.1:{ports[i * 2 + 1]}"));
        var environment = new List<KeyValuePair<string, string>>
        {
            new("ConnectionStrings__Postgres", Stack.Postgres),
            new("ConnectionStrings__RabbitMq", Stack.RabbitMq),
            new("SOFTHSM2_CONF", Stack.SoftHsmConf),
            new("Keyward__Hsm__ModulePath", Stack.HsmModule),
            new("Keyward__Hsm__TokenLabel", Stack.HsmToken),
            new("Keyward__Hsm__Pin", Stack.HsmPin),
        };
        environment.AddRange(Tenants.Configuration());
        environment.AddRange(grpcAddresses);
        // Checkpoints come quickly in tests: every 5 entries or 2 seconds.
        environment.Add(new("Keyward__Audit__Checkpoints__EveryEntries", "5"));
        environment.Add(new("Keyward__Audit__Checkpoints__EveryInterval", "00:00:02"));
        BaseEnvironment = environment;

        var logDirectory = Path.Combine(Stack.RepositoryRoot, ".stack", "logs", "tests");
        for (var i = 0; i < Services.Length; i++)
        {
            var (name, assembly) = Services[i];
            _processes[name] = ServiceProcess.Start(Stack.RepositoryRoot, name, assembly, ports[i * 2], ports[i * 2 + 1], EnvironmentOf(name), logDirectory);
        }

        await Task.WhenAll(_processes.Values.Select(p => WaitUntilReadyAsync(p, TimeSpan.FromSeconds(90))));
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes.Values)
        {
            await process.DisposeAsync();
        }
    }

    public HttpClient Http(ServiceProcess service, string? token = null)
    {
        var client = new HttpClient { BaseAddress = service.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public GrpcChannel GatewayGrpc() => GrpcChannel.ForAddress(Gateway.GrpcAddress);

    public static async Task<bool> IsReadyAsync(ServiceProcess service)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync(new Uri(service.HttpAddress, "/readyz"));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task WaitUntilReadyAsync(ServiceProcess service, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await IsReadyAsync(service))
        {
            if (service.HasExited)
            {
                throw new InvalidOperationException($"{service.Name} exited during start-up:\n{service.LogTail()}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{service.Name} was not ready after {timeout.TotalSeconds}s:\n{service.LogTail()}");
            }

            await Task.Delay(250);
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ =>
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return listener;
        }).ToList();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}

[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<KeywardSystem>
{
    public const string Name = "keyward system";
}
