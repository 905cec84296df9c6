using System.Security.Cryptography;
using Keyward.LocalServices;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Keyward.Bench;

/// <summary>All five services from their Release builds, wired together on free loopback ports, for the benchmarks.</summary>
public sealed class BenchSystem : IAsyncDisposable
{
    private readonly List<ServiceUnderBench> _services = [];
    private readonly StackEnvironment _stack;
    private readonly SigningCredentials _devKey;

    private BenchSystem(StackEnvironment stack)
    {
        _stack = stack;
        var key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(stack["KEYWARD_DEV_JWT_KEY"]));
        _devKey = new SigningCredentials(new RsaSecurityKey(key), SecurityAlgorithms.RsaSha256);
    }

    public IReadOnlyDictionary<string, ServiceUnderBench> Services { get; private set; } = new Dictionary<string, ServiceUnderBench>();

    public ServiceUnderBench Gateway => Services["gateway"];

    /// <summary>Methods compiled so far by the JIT in all five services.</summary>
    public long MethodsCompiled() => Services.Values.Sum(s => s.MethodsCompiled());

    /// <summary>How long a benchmark may warm the services up before it measures (<c>--warmup SECONDS</c>).</summary>
    public TimeSpan MaxWarmup { get; init; } = TimeSpan.FromSeconds(150);

    /// <summary>Every replica's ports, per service, the first replica first.</summary>
    private Dictionary<string, IReadOnlyList<ServicePorts>> _ports = [];
    private IDictionary<string, string> _overrides = new Dictionary<string, string>();

    /// <summary>The HTTP port of every gateway replica.</summary>
    public IReadOnlyList<int> GatewayPorts => _ports["gateway"].Select(p => p.Http).ToList();

    /// <summary>
    /// Starts the five services; <paramref name="overrides"/> are settings every one of them gets. With
    /// <paramref name="replicas"/> above 1 each runs that many times (the first as <c>name</c>, the others as
    /// <c>name@2</c>…), each told every replica of its peers, as <c>scripts/up --replicas N</c> does.
    /// </summary>
    public static async Task<BenchSystem> StartAsync(StackEnvironment stack, TimeSpan maxWarmup, IDictionary<string, string>? overrides = null, int replicas = 1)
    {
        var system = new BenchSystem(stack) { MaxWarmup = maxWarmup, _overrides = overrides ?? new Dictionary<string, string>() };
        var free = new Queue<int>(ServiceUnderBench.FreePorts(LocalService.All.Count * replicas * 2));
        system._ports = LocalService.All.ToDictionary(s => s.Name,
            s => (IReadOnlyList<ServicePorts>)Enumerable.Range(0, replicas).Select(_ => new ServicePorts(free.Dequeue(), free.Dequeue())).ToList());
        var started = new Dictionary<string, ServiceUnderBench>();
        foreach (var service in LocalService.All)
        {
            for (var replica = 1; replica <= replicas; replica++)
            {
                var name = replica == 1 ? service.Name : $"{service.Name}@{replica}";
                started[name] = await ServiceUnderBench.StartAsync(stack, service.Name, system._ports[service.Name][replica - 1], system._ports, system._overrides);
                system._services.Add(started[name]);
            }
        }

        system.Services = started;
        return system;
    }

    /// <summary>Kills one service (SIGKILL: no shutdown, no flush) and, after <paramref name="down"/>, starts it again on its ports.</summary>
    public async Task RestartAsync(string name, TimeSpan down)
    {
        var old = Services[name];
        await old.DisposeAsync();
        _services.Remove(old);
        await Task.Delay(down);
        var restarted = await ServiceUnderBench.StartAsync(_stack, name, _ports[name][0], _ports, _overrides);
        _services.Add(restarted);
        Services = new Dictionary<string, ServiceUnderBench>(Services) { [name] = restarted };
    }

    /// <summary>Kills one instance (SIGKILL) for good: what a node failure does to a replica.</summary>
    public async Task KillAsync(string instance)
    {
        var victim = Services[instance];
        await victim.DisposeAsync();
        _services.Remove(victim);
    }

    /// <summary>A client of the gateway that sends each request's own token (one connection pool for many users).</summary>
    public HttpClient Anonymous(int gatewayPort = 0) =>
        new() { BaseAddress = new Uri($"http://127.0.0.1:{(gatewayPort == 0 ? Gateway.HttpPort : gatewayPort)}"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Waits until every service's audit outbox is empty, so that a measurement does not pay for an earlier backlog.</summary>
    public async Task WaitForOutboxesAsync()
    {
        await using var data = Npgsql.NpgsqlDataSource.Create(_stack["KEYWARD_POSTGRES_BENCH"]);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            await using var command = data.CreateCommand(string.Join(" + ",
                new[] { "gateway", "keyserver", "certificate_authority", "metadata" }.Select(schema => $"(select count(*) from {schema}.mt_doc_auditoutboxmessage)")).Insert(0, "select "));
            if ((long)(await command.ExecuteScalarAsync())! == 0)
            {
                return;
            }

            await Task.Delay(100);
        }
    }

    public string TenantId => _stack["KEYWARD_DEV_TENANT"];

    public string Issuer => _stack["KEYWARD_DEV_ISSUER"];

    public string Token(string user, string roles = "user")
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _stack["KEYWARD_DEV_ISSUER"],
            Audience = "keyward",
            Claims = new Dictionary<string, object> { ["sub"] = user, ["tenant"] = _stack["KEYWARD_DEV_TENANT"], ["roles"] = roles.Split(',') },
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddHours(1),
            SigningCredentials = _devKey,
        });
    }

    public HttpClient Http(string user)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Gateway.HttpPort}") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token(user));
        http.DefaultRequestHeaders.Add("X-E2EE-SUPPORTED", "true");
        http.DefaultRequestHeaders.Add("OCS-APIRequest", "true");
        http.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }
    }
}

/// <summary>Latency percentiles of a set of samples.</summary>
public static class Percentiles
{
    public static double Of(List<double> samples, double percentile)
    {
        if (samples.Count == 0)
        {
            return 0;
        }

        var sorted = samples.Order().ToList();
        return sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(percentile / 100 * sorted.Count) - 1)];
    }
}
