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

    /// <summary>Where clients send their calls: the gateway, or the baseline that stands in for the whole stack.</summary>
    public ServiceUnderBench Gateway => Services.TryGetValue("gateway", out var gateway) ? gateway : Services["baseline"];

    /// <summary>Methods compiled so far by the JIT in all five services.</summary>
    public long MethodsCompiled() => Services.Values.Sum(s => s.MethodsCompiled());

    /// <summary>How long a benchmark may warm the services up before it measures (<c>--warmup SECONDS</c>).</summary>
    public TimeSpan MaxWarmup { get; init; } = TimeSpan.FromSeconds(150);

    /// <summary>Every replica's ports, per service, the first replica first.</summary>
    private Dictionary<string, IReadOnlyList<ServicePorts>> _ports = [];
    private IDictionary<string, string> _overrides = new Dictionary<string, string>();
    private BenchRelease? _release;

    /// <summary>What runs: this checkout, an earlier release, or the single-process baseline.</summary>
    public string Label { get; private init; } = "this checkout";

    public bool IsBaseline { get; private init; }

    /// <summary>The database it writes (its outboxes, PostgreSQL's counters for it).</summary>
    public string Database { get; private init; } = "";

    /// <summary>The HTTP port of every gateway replica.</summary>
    public IReadOnlyList<int> GatewayPorts => _ports["gateway"].Select(p => p.Http).ToList();

    /// <summary>
    /// Starts the five services; <paramref name="overrides"/> are settings every one of them gets. With
    /// <paramref name="replicas"/> above 1 each runs that many times (the first as <c>name</c>, the others as
    /// <c>name@2</c>…), each told every replica of its peers, as <c>scripts/up --replicas N</c> does.
    /// </summary>
    public static async Task<BenchSystem> StartAsync(StackEnvironment stack, TimeSpan maxWarmup, IDictionary<string, string>? overrides = null, int replicas = 1)
        => await StartAsync(stack, maxWarmup, overrides, replicas, release: null);

    /// <summary>
    /// The five services of another release (<see cref="BenchRelease"/>: its worktree's build, its own database and
    /// virtual host), for the ratio of a figure to that release's in the same run.
    /// </summary>
    public static async Task<BenchSystem> StartAsync(StackEnvironment stack, TimeSpan maxWarmup, BenchRelease release) =>
        await StartAsync(stack, maxWarmup, overrides: null, replicas: 1, release);

    /// <summary>The single-process baseline (bench/Keyward.Baseline) alone, answering the same OCS calls as the gateway.</summary>
    public static async Task<BenchSystem> StartBaselineAsync(StackEnvironment stack, TimeSpan maxWarmup)
    {
        var system = new BenchSystem(stack) { MaxWarmup = maxWarmup, Label = "single-process baseline", IsBaseline = true, Database = stack["KEYWARD_POSTGRES_BENCH"] };
        var baseline = await ServiceUnderBench.StartBaselineAsync(stack);
        system._services.Add(baseline);
        system.Services = new Dictionary<string, ServiceUnderBench> { ["baseline"] = baseline };
        return system;
    }

    private static async Task<BenchSystem> StartAsync(StackEnvironment stack, TimeSpan maxWarmup, IDictionary<string, string>? overrides, int replicas, BenchRelease? release)
    {
        var system = new BenchSystem(stack)
        {
            MaxWarmup = maxWarmup,
            _overrides = overrides ?? new Dictionary<string, string>(),
            _release = release,
            Label = release is null ? "this checkout" : $"release {release.Commit}",
            Database = release?.OwnStore(stack["KEYWARD_POSTGRES_BENCH"]) ?? stack["KEYWARD_POSTGRES_BENCH"],
        };
        var free = new Queue<int>(ServiceUnderBench.FreePorts(LocalService.All.Count * replicas * 2));
        system._ports = LocalService.All.ToDictionary(s => s.Name,
            s => (IReadOnlyList<ServicePorts>)Enumerable.Range(0, replicas).Select(_ => new ServicePorts(free.Dequeue(), free.Dequeue())).ToList());
        var started = new Dictionary<string, ServiceUnderBench>();
        foreach (var service in LocalService.All)
        {
            for (var replica = 1; replica <= replicas; replica++)
            {
                var name = replica == 1 ? service.Name : $"{service.Name}@{replica}";
                started[name] = await ServiceUnderBench.StartAsync(stack, service.Name, system._ports[service.Name][replica - 1], system._ports, system._overrides,
                    release);
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
        var restarted = await ServiceUnderBench.StartAsync(_stack, name, _ports[name][0], _ports, _overrides, _release);
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
        await using var data = Npgsql.NpgsqlDataSource.Create(Database);
        // Whichever services have an outbox in this database (none for the baseline, which commits its audit rows itself).
        await using var tables = data.CreateCommand("select table_schema from information_schema.tables where table_name = 'mt_doc_auditoutboxmessage'");
        var schemas = new List<string>();
        await using (var reader = await tables.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                schemas.Add(reader.GetString(0));
            }
        }

        if (schemas.Count == 0)
        {
            return;
        }

        var count = "select " + string.Join(" + ", schemas.Select(schema => $"(select count(*) from {schema}.mt_doc_auditoutboxmessage)"));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            await using var command = data.CreateCommand(count);
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

/// <summary>An earlier release built in a git worktree by scripts/bench (<c>--previous ROOT COMMIT</c>), run against a database and virtual host of its own.</summary>
public sealed record BenchRelease(string Root, string Commit, string Database = "keyward_previous")
{
    /// <summary>A connection string or broker URL of the bench stack, pointed at this release's database or virtual host instead.</summary>
    public string OwnStore(string value) =>
        value.Replace("Database=keyward_bench", $"Database={Database}", StringComparison.Ordinal).Replace("/keyward_bench", $"/{Database}", StringComparison.Ordinal);
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
