using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Grpc.Net.Client;
using Keyward.LocalServices;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>
/// The whole system for end-to-end tests: the five services started as processes on free loopback
/// ports against the real stack (its test database, test virtual host and test HSM token).
/// </summary>
public sealed class KeywardSystem : IAsyncLifetime
{
    private readonly Dictionary<string, ServiceProcess> _processes = new();

    public StackSettings Stack { get; private set; } = null!;

    public TestTenants Tenants { get; private set; } = null!;

    public ServiceProcess Gateway => _processes["gateway"];

    public ServiceProcess Service(string name) => _processes[name];

    public IEnumerable<ServiceProcess> All => _processes.Values;

    private Dictionary<string, ServicePorts> _ports = [];

    /// <summary>
    /// What one service starts with on the given ports: the local stack's wiring for the tests (the one definition in
    /// tools/Keyward.LocalServices), the test tenants and service identity, fast checkpoints; for the audit service its
    /// service-token key (audit and keyserver).
    /// </summary>
    public IEnumerable<KeyValuePair<string, string>> EnvironmentOf(string name, ServicePorts? ports = null)
    {
        var environment = ServiceEnvironment.For(Stack.Values, StackPurpose.Test, name, ports ?? _ports[name], _ports)
            .Concat(Tenants.Configuration())
            // Refused tokens are folded per source every 2 seconds (a minute in production), so tests see their rows soon.
            .Append(new("Keyward__Gateway__RefusedTokens__Window", "00:00:02"))
            .Append(new("Keyward__Transparency__Witnesses__0", TestWitness.Cosigner.Verifier.VerifierKey));
        return ServiceIdentity.Mints(name) ? environment.Concat(Tenants.ServiceMinterConfiguration()) : environment;
    }

    /// <summary>Starts one more instance of a service with some settings changed; the caller disposes it.</summary>
    public ServiceProcess StartExtra(string name, string instanceName, IEnumerable<KeyValuePair<string, string>> overrides)
    {
        var changed = overrides.ToDictionary(o => o.Key, o => o.Value);
        var free = FreePorts(2);
        var ports = new ServicePorts(free[0], free[1]);
        var environment = EnvironmentOf(name, ports).Where(e => !changed.ContainsKey(e.Key)).Concat(changed);
        return ServiceProcess.Start(Stack.RepositoryRoot, LocalService.Named(name), ports, environment,
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

        var restarted = ServiceProcess.Start(Stack.RepositoryRoot, LocalService.Named(name), _ports[name], EnvironmentOf(name),
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
        var free = FreePorts(LocalService.All.Count * 2);
        _ports = LocalService.All.Select((s, i) => (s.Name, Ports: new ServicePorts(free[i * 2], free[i * 2 + 1]))).ToDictionary(p => p.Name, p => p.Ports);
        var logDirectory = Path.Combine(Stack.RepositoryRoot, ".stack", "logs", "tests");
        foreach (var service in LocalService.All)
        {
            _processes[service.Name] = ServiceProcess.Start(Stack.RepositoryRoot, service, _ports[service.Name], EnvironmentOf(service.Name), logDirectory);
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
