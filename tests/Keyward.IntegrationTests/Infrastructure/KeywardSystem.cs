using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Grpc.Net.Client;
using Keyward.LocalServices;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>
/// The whole system for end-to-end tests: the five services started as processes on free loopback
/// ports against the real stack (its test database, test virtual host and test HSM token). With
/// <c>KEYWARD_TEST_REPLICAS=N</c> every service runs N times, each told every replica of its peers, as
/// <c>scripts/up --replicas N</c> runs them; the tests talk to the first gateway.
/// </summary>
public sealed class KeywardSystem : IAsyncLifetime
{
    public const string ReplicasVariable = "KEYWARD_TEST_REPLICAS";

    /// <summary>Every running instance: the first of each service under its name, the others as name@2, name@3.</summary>
    private readonly Dictionary<string, ServiceProcess> _processes = new();

    /// <summary>How many instances of each service run (1 unless <see cref="ReplicasVariable"/> says more).</summary>
    public int ReplicaCount { get; } = int.TryParse(Environment.GetEnvironmentVariable(ReplicasVariable), out var n) ? Math.Clamp(n, 1, 4) : 1;

    public StackSettings Stack { get; private set; } = null!;

    public TestTenants Tenants { get; private set; } = null!;

    public ServiceProcess Gateway => _processes["gateway"];

    public ServiceProcess Service(string name) => _processes[name];

    /// <summary>Every running instance of one service (its logs, when a test must see what any replica saw).</summary>
    public IReadOnlyList<ServiceProcess> Replicas(string name) =>
        Enumerable.Range(1, ReplicaCount).Select(i => _processes[InstanceName(name, i)]).ToList();

    public IEnumerable<ServiceProcess> All => _processes.Values;

    /// <summary>The ports of every replica of every service, the first replica first.</summary>
    private Dictionary<string, IReadOnlyList<ServicePorts>> _ports = [];

    private static string InstanceName(string name, int replica) => replica == 1 ? name : $"{name}@{replica}";

    /// <summary>
    /// What one service starts with on the given ports: the local stack's wiring for the tests (the one definition in
    /// tools/Keyward.LocalServices), the test tenants and service identity, fast checkpoints; for the audit service its
    /// service-token key (audit and keyserver).
    /// </summary>
    public IEnumerable<KeyValuePair<string, string>> EnvironmentOf(string name, ServicePorts? ports = null)
    {
        var environment = ServiceEnvironment.For(Stack.Values, StackPurpose.Test, name, ports ?? _ports[name][0], _ports)
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

    /// <summary>Kills a service (its first replica: SIGKILL, no shutdown) and starts it again on the same ports.</summary>
    public async Task<ServiceProcess> RestartAsync(string name, Func<Task>? whileDown = null)
    {
        var old = _processes[name];
        await old.DisposeAsync();
        if (whileDown is not null)
        {
            await whileDown();
        }

        var restarted = ServiceProcess.Start(Stack.RepositoryRoot, LocalService.Named(name), _ports[name][0], EnvironmentOf(name),
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
        var free = new Queue<int>(FreePorts(LocalService.All.Count * ReplicaCount * 2));
        _ports = LocalService.All.ToDictionary(s => s.Name,
            s => (IReadOnlyList<ServicePorts>)Enumerable.Range(0, ReplicaCount).Select(_ => new ServicePorts(free.Dequeue(), free.Dequeue())).ToList());
        var logDirectory = Path.Combine(Stack.RepositoryRoot, ".stack", "logs", "tests");
        foreach (var service in LocalService.All)
        {
            for (var replica = 1; replica <= ReplicaCount; replica++)
            {
                var ports = _ports[service.Name][replica - 1];
                _processes[InstanceName(service.Name, replica)] = ServiceProcess.Start(Stack.RepositoryRoot, service, ports, EnvironmentOf(service.Name, ports),
                    replica == 1 ? logDirectory : Path.Combine(logDirectory, $"replica-{replica}"));
            }
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

    public static int[] FreePorts(int count)
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
