using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Keyward.LocalServices;

namespace Keyward.Bench;

/// <summary>A Keyward service started from its Release build for a benchmark, stopped by PID at the end.</summary>
public sealed class ServiceUnderBench : IAsyncDisposable
{
    private readonly Process _process;

    private readonly string _jitLog;

    private ServiceUnderBench(Process process, int httpPort, TimeSpan startup, string jitLog)
    {
        _process = process;
        HttpPort = httpPort;
        Startup = startup;
        _jitLog = jitLog;
    }

    public int HttpPort { get; }

    public TimeSpan Startup { get; }

    public int Pid => _process.Id;

    public int GrpcPort { get; private init; }

    /// <summary>Starts one service alone on free ports (its peers, if any, given in <paramref name="overrides"/>).</summary>
    public static Task<ServiceUnderBench> StartAsync(StackEnvironment stack, string name, IDictionary<string, string>? overrides = null)
    {
        var free = FreePorts(2);
        var ports = new ServicePorts(free[0], free[1]);
        return StartAsync(stack, name, ports, new Dictionary<string, ServicePorts> { [name] = ports }, overrides);
    }

    /// <summary>Starts one service of a system whose ports are <paramref name="peers"/>, wired as tools/Keyward.LocalServices defines.</summary>
    public static Task<ServiceUnderBench> StartAsync(StackEnvironment stack, string name, ServicePorts ports, IReadOnlyDictionary<string, ServicePorts> peers,
        IDictionary<string, string>? overrides = null) =>
        StartAsync(stack, name, ports, peers.ToDictionary(p => p.Key, p => (IReadOnlyList<ServicePorts>)[p.Value]), overrides);

    /// <summary>
    /// The same, told every replica of each peer; with <paramref name="release"/>, that release's build on its own
    /// database and virtual host.
    /// </summary>
    public static Task<ServiceUnderBench> StartAsync(StackEnvironment stack, string name, ServicePorts ports, IReadOnlyDictionary<string, IReadOnlyList<ServicePorts>> peers,
        IDictionary<string, string>? overrides = null, BenchRelease? release = null)
    {
        var service = LocalService.Named(name);
        var environment = ServiceEnvironment.For(stack.Values, StackPurpose.Bench, name, ports, peers).ToDictionary(p => p.Key, p => p.Value);
        if (release is not null)
        {
            foreach (var key in new[] { "ConnectionStrings__Postgres", "ConnectionStrings__RabbitMq" })
            {
                environment[key] = release.OwnStore(environment[key]);
            }
        }

        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var root = release?.Root ?? stack.RepositoryRoot;
        var dll = service.Dll(root, "Release");
        var directory = service.BuildDirectory(root, "Release");
        // KEYWARD_BENCH_PUBLISHED=DIR runs this checkout's services from DIR/<service>/ (what `dotnet publish` made, with
        // ReadyToRun as the Dockerfile does: scripts/bench sets it) instead of the build output.
        if (release is null && Environment.GetEnvironmentVariable("KEYWARD_BENCH_PUBLISHED") is { Length: > 0 } published)
        {
            directory = Path.Combine(published, name);
            dll = Path.Combine(directory, Path.GetFileName(dll));
        }

        return LaunchAsync(name, dll, directory, ports, environment);
    }

    /// <summary>
    /// The single-process baseline (bench/Keyward.Baseline) on free ports: the dev tenant and the HSM token as the
    /// services have them, the bench database as its owner (it makes its own schema).
    /// </summary>
    public static Task<ServiceUnderBench> StartBaselineAsync(StackEnvironment stack)
    {
        var free = FreePorts(2);
        var ports = new ServicePorts(free[0], free[1]);
        var environment = ServiceEnvironment.For(stack.Values, StackPurpose.Bench, "certificate-authority", ports, new Dictionary<string, ServicePorts>())
            .ToDictionary(p => p.Key, p => p.Value);
        environment["ConnectionStrings__Postgres"] = stack["KEYWARD_POSTGRES_BENCH"];
        var directory = Path.Combine(stack.RepositoryRoot, "bench", "Keyward.Baseline", "bin", "Release", "net10.0");
        return LaunchAsync("baseline", Path.Combine(directory, "Keyward.Baseline.dll"), directory, ports, environment);
    }

    private static async Task<ServiceUnderBench> LaunchAsync(string name, string dll, string directory, ServicePorts ports, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        // The runtime lists every method it compiles (one line each) so the benchmarks can wait for the JIT to
        // settle and show that it did: tiered compilation keeps a core busy for a minute or more of load here.
        var jitLog = Path.Combine(Path.GetTempPath(), "keyward-bench", $"{name}-{ports.Http}.jit");
        Directory.CreateDirectory(Path.GetDirectoryName(jitLog)!);
        File.Delete(jitLog);
        start.Environment["DOTNET_JitStdOutFile"] = jitLog;
        start.Environment["DOTNET_JitDisasmSummary"] = "1";
        if (Environment.GetEnvironmentVariable("KEYWARD_BENCH_PERF") == "1")
        {
            // For `perf record -p PID`: the JIT writes /tmp/perf-PID.map so profiles name managed methods.
            start.Environment["DOTNET_PerfMapEnabled"] = "1";
            start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var stopwatch = Stopwatch.StartNew();
        var process = Process.Start(start)!;
        // Warnings and errors of the service (its log level is Warning) kept next to the JIT list, for a failed run.
        var log = TextWriter.Synchronized(new StreamWriter(Path.ChangeExtension(jitLog, ".log"), append: false) { AutoFlush = true });
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) { log.WriteLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) { log.WriteLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited during start-up; is it built (dotnet build -c Release)?");
            }

            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{ports.Http}/readyz")).IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (stopwatch.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"{name} not ready after 60 s");
            }

            await Task.Delay(50);
        }

        return new ServiceUnderBench(process, ports.Http, stopwatch.Elapsed, jitLog) { GrpcPort = ports.Grpc };
    }

    /// <summary>
    /// Memory now, from /proc (Linux): resident (VmRSS), only the process's own (RssAnon, no mapped files), or from
    /// <c>smaps_rollup</c> its proportional share (Pss: a page mapped by n processes counts 1/n).
    /// </summary>
    public long ResidentBytes(string field = "VmRSS", string file = "status")
    {
        var line = File.ReadLines($"/proc/{_process.Id}/{file}").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>How many methods the JIT has compiled in this process so far.</summary>
    public long MethodsCompiled()
    {
        if (!File.Exists(_jitLog))
        {
            return 0;
        }

        using var log = new FileStream(_jitLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> buffer = stackalloc byte[64 * 1024];
        long lines = 0;
        int read;
        while ((read = log.Read(buffer)) > 0)
        {
            lines += buffer[..read].Count((byte)'\n');
        }

        return lines;
    }

    public static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        File.Delete(_jitLog);
    }
}
