using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Npgsql;

namespace Keyward.Bench;

/// <summary>
/// P2: lock → PUT meta-data → unlock cycles per second at 1, 4 and 16 clients with p50/p99 latency, next to
/// durable one-row INSERT transactions per second at the same concurrency on the same PostgreSQL; and p99 at
/// half of the 16-client maximum, paced. Each client works on its own encrypted folder.
/// </summary>
public static class MetadataCycles
{
    private const string Api = OcsFolderCalls.Api;
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(10);

    /// <summary>The client counts of the saturated phases.</summary>
    public static readonly int[] Concurrency = [1, 4, 16];

    /// <summary>P2's saturated phases on another system (an earlier release, the single-process baseline), by client count.</summary>
    public static async Task<Dictionary<int, Measured>> CompareAsync(StackEnvironment stack, BenchSystem system)
    {
        await WarmAsync(system);
        var measured = new Dictionary<int, Measured>();
        foreach (var clients in Concurrency)
        {
            measured[clients] = (await MeasureAsync(stack, system, clients)).Measured;
        }

        return measured;
    }

    private static async Task WarmAsync(BenchSystem system)
    {
        var warmupFolders = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Folder.CreateAsync(system, $"p2-{Guid.NewGuid():N}"[..16])));
        await Warmup.RunAsync(system, "metadata cycles", warmupFolders.Length, worker => warmupFolders[worker].CycleAsync(), system.MaxWarmup);
    }

    private static async Task<(Measured Measured, Folder[] Folders)> MeasureAsync(StackEnvironment stack, BenchSystem system, int clients)
    {
        var folders = await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Folder.CreateAsync(system, $"p2-{Guid.NewGuid():N}"[..16])));
        var compiledBefore = system.MethodsCompiled();
        var cost = await StackCost.StartAsync(system);
        var (rate, latencies) = await CyclesAsync(folders, Phase, pacePerClient: null);
        var compiled = system.MethodsCompiled() - compiledBefore;
        var perCycle = await cost.StopAsync(latencies.Count);
        var measured = new Measured(rate, perCycle, compiled, Percentiles.Of(latencies, 50), Percentiles.Of(latencies, 99));
        Console.WriteLine($"P2: {system.Label}, {clients,2} clients: {rate:N0} cycles/s (p50 {measured.P50:N1} ms, p99 {measured.P99:N1} ms; {compiled} methods compiled meanwhile)");
        Console.WriteLine($"    per cycle: {perCycle}");
        return (measured, folders);
    }

    public static async Task<(List<BenchFigure> Figures, Dictionary<string, long> PeakMemory)> RunAsync(StackEnvironment stack, BenchSystem system)
    {
        var figures = new List<BenchFigure>();
        var peak = system.Services.Keys.SelectMany(n => new[] { n, n + ":anon", n + ":pss" }).ToDictionary(k => k, _ => 0L);
        using var sampler = new Timer(_ =>
        {
            foreach (var (name, service) in system.Services)
            {
                peak[name] = Math.Max(peak[name], service.ResidentBytes());
                peak[name + ":anon"] = Math.Max(peak[name + ":anon"], service.ResidentBytes("RssAnon"));
                peak[name + ":pss"] = Math.Max(peak[name + ":pss"], service.ResidentBytes("Pss", "smaps_rollup"));
            }
        }, null, TimeSpan.Zero, TimeSpan.FromMilliseconds(200));

        await WarmAsync(system);
        double max16 = 0;
        Folder[] folders16 = [];
        foreach (var clients in Concurrency)
        {
            var (measured, folders) = await MeasureAsync(stack, system, clients);
            var insertCost = await StackCost.StartAsync(system);
            var (inserts, insertCount) = await InsertRateAsync(stack, clients, Phase);
            var perInsert = await insertCost.StopAsync(insertCount);
            Console.WriteLine($"    durable INSERT, {clients} connection(s): {inserts:N0} tx/s; per INSERT: {perInsert}");
            figures.Add(new BenchFigure($"P2-{clients}", $"lock → PUT → unlock cycles, {clients} client(s)", "cycles/s", measured.Rate, $"durable one-row INSERT tx/s, {clients} connection(s)", inserts,
                $"p50 {measured.P50:N1} ms, p99 {measured.P99:N1} ms; {measured.Compiled} methods compiled during the phase; per cycle: {measured.Cost}"));
            if (clients == 16)
            {
                figures.Add(new BenchFigure("P2-cpu", "CPU per lock → PUT → unlock cycle, every process of the stack, 16 clients", "CPU ms/cycle", measured.Cost.CpuMs,
                    "CPU per durable one-row INSERT transaction (client + PostgreSQL), 16 connections", perInsert.CpuMs, $"{measured.Cost}; per INSERT: {perInsert}; target ≤ 3 ms") { Lower = true });
                max16 = measured.Rate;
                folders16 = folders;
            }

            if (clients == 1)
            {
                figures.Add(new BenchFigure("P2-p50", "single-client cycle p50 latency", "ms", measured.P50, "target", 5, $"p99 {measured.P99:N1} ms") { Lower = true });
            }
        }

        var half = max16 / 2;
        // The paced phase starts once the saturated phases' audit backlog is gone and records only after its first
        // two seconds: its p99 is that of half load, not of the way out of full load.
        await system.WaitForOutboxesAsync();
        var (pacedRate, pacedLatencies) = await CyclesAsync(folders16, Phase, pacePerClient: TimeSpan.FromSeconds(16 / half), settle: TimeSpan.FromSeconds(2));
        var p99 = Percentiles.Of(pacedLatencies, 99);
        var p50 = Percentiles.Of(pacedLatencies, 50);
        var p90 = Percentiles.Of(pacedLatencies, 90);
        Console.WriteLine($"P2: at half load ({pacedRate:N0} cycles/s, 16 clients paced): p50 {p50:N1} ms, p90 {p90:N1} ms, p99 {p99:N1} ms");
        figures.Add(new BenchFigure("P2-p99", "cycle p99 latency at half of the 16-client maximum", "ms", p99, "target", 30, $"paced at {pacedRate:N0} cycles/s; p50 {p50:N1} ms, p90 {p90:N1} ms") { Lower = true });
        return (figures, peak);
    }

    private static async Task<(double Rate, List<double> Latencies)> CyclesAsync(Folder[] folders, TimeSpan duration, TimeSpan? pacePerClient, TimeSpan settle = default)
    {
        var latencies = new List<double>();
        var stopwatch = Stopwatch.StartNew();
        var counts = await Task.WhenAll(folders.Select(async (folder, index) =>
        {
            var done = 0;
            // Paced clients start spread over one period, so that arrivals are even rather than in bursts of all clients at once.
            var next = stopwatch.Elapsed + (pacePerClient is { } period ? period * index / folders.Length : TimeSpan.Zero);
            while (stopwatch.Elapsed < duration)
            {
                if (pacePerClient is { } pace)
                {
                    next += pace;
                    if (next > stopwatch.Elapsed)
                    {
                        await Task.Delay(next - stopwatch.Elapsed);
                    }
                }

                var started = Stopwatch.GetTimestamp();
                await folder.CycleAsync();
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (stopwatch.Elapsed < settle)
                {
                    continue;
                }

                lock (latencies)
                {
                    latencies.Add(elapsed);
                }

                done++;
            }

            return done;
        }));
        return (counts.Sum() / (stopwatch.Elapsed - settle).TotalSeconds, latencies);
    }

    private static async Task<(double Rate, long Count)> InsertRateAsync(StackEnvironment stack, int connections, TimeSpan duration)
    {
        await using var data = NpgsqlDataSource.Create(stack["KEYWARD_POSTGRES_BENCH"]);
        await using (var create = data.CreateCommand("create table if not exists public.bench_insert (id bigserial primary key, payload text not null)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var stopwatch = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            await using var connection = await data.OpenConnectionAsync();
            await using var insert = new NpgsqlCommand("insert into public.bench_insert (payload) values (@p)", connection);
            insert.Parameters.AddWithValue("p", new string('x', 200));
            await insert.PrepareAsync();
            var done = 0;
            while (stopwatch.Elapsed < duration)
            {
                await insert.ExecuteNonQueryAsync();
                done++;
            }

            return done;
        }));
        return (counts.Sum() / stopwatch.Elapsed.TotalSeconds, counts.Sum());
    }

    /// <summary>One client's folder: registered, with metadata, and a counter it keeps raising.</summary>
    private sealed class Folder(HttpClient http, string id, string metadata, string signature)
    {
        private long _counter = 1;

        /// <summary>A folder of the user's, whose metadata the user signs as a Nextcloud client does (the server checks it on every write).</summary>
        public static async Task<Folder> CreateAsync(BenchSystem system, string user)
        {
            var http = system.Http(user);
            using var key = System.Security.Cryptography.RSA.Create(2048);
            var certificate = await OcsFolderCalls.EnrollAsync(http, user, key);
            var (metadata, signature) = OcsFolderCalls.SignedRoot(user, certificate, key, new string('Q', 2048), "Tk9OQ0U=", "VEFH", "S0VZ");
            var folder = new Folder(http, await OcsFolderCalls.RegisterAsync(http), metadata, signature);
            await folder.CycleAsync(create: true);
            return folder;
        }

        public Task CycleAsync(bool create = false) => OcsFolderCalls.CycleAsync(http, id, ++_counter, metadata, signature, create);
    }
}
