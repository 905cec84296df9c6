using System.Text.Json;
using Keyward.Bench;

// dotnet bench/Keyward.Bench/bin/Release/net10.0/Keyward.Bench.dll [p1..p8] (p5 runs with p8; p7: metadata size) [--events N] [--certificates N] [--warmup MAX_SECONDS] [--out FILE] [--markdown FILE] [--report-only] [--no-compare] [--no-baseline]
if (args.FirstOrDefault() == "faults")
{
    // dotnet …/Keyward.Bench.dll faults [--short] [--report FILE]: the failure drills (scripts/faults).
    return await Keyward.Bench.Faults.FaultDrills.RunAsync(StackEnvironment.Load(), args.Contains("--short"), args.SkipWhile(a => a != "--report").Skip(1).FirstOrDefault());
}

var figures = args.Where(a => System.Text.RegularExpressions.Regex.IsMatch(a, "^p[1-8]$")).DefaultIfEmpty("all").ToList();
var events = Option("--events", 20_000);
var output = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault();
var stack = StackEnvironment.Load();
var results = new List<BenchFigure>();
if (args.Contains("--report-only"))
{
    // Re-writes the Markdown report from the figures already in --out, measuring nothing.
    figures = ["none"];
}

if (figures.Contains("all") || figures.Contains("p3"))
{
    results.AddRange(await AuditThroughput.RunAsync(stack, events));
}

if (figures.Intersect(["all", "p1", "p2", "p4", "p5", "p6", "p7", "p8"]).Any())
{
    Console.WriteLine("starting the five services (Release)…");
    // KEYWARD_BENCH_SERVICE_ENV="NAME=VALUE NAME=VALUE": settings every service of this checkout starts with, to
    // measure a runtime setting (DOTNET_gcServer=0, DOTNET_TieredPGO=0, …) alone before it is made the default.
    var serviceEnvironment = (Environment.GetEnvironmentVariable("KEYWARD_BENCH_SERVICE_ENV") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)
        .Select(pair => pair.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair.ElementAtOrDefault(1) ?? "");
    if (Environment.GetEnvironmentVariable("KEYWARD_BENCH_PUBLISHED") is { Length: > 0 } published)
    {
        Console.WriteLine($"the services start from what was published into {published}");
    }

    if (serviceEnvironment.Count > 0)
    {
        Console.WriteLine($"the services start with {string.Join(" ", serviceEnvironment.Select(p => $"{p.Key}={p.Value}"))}");
    }

    await using var system = await BenchSystem.StartAsync(stack, TimeSpan.FromSeconds(Option("--warmup", 150)), serviceEnvironment);
    if (figures.Intersect(["all", "p5", "p8"]).Any())
    {
        results.AddRange(await LogBenchmarks.RunAsync(stack, system, events));
    }

    if (figures.Contains("all") || figures.Contains("p7"))
    {
        results.AddRange(await MetadataSize.RunAsync(stack, system));
    }

    if (figures.Contains("all") || figures.Contains("p1"))
    {
        results.AddRange(await CertificateIssuance.RunAsync(stack, system, Option("--certificates", 2000)));
    }

    if (figures.Contains("all") || figures.Contains("p4"))
    {
        results.AddRange(await KeyLookupLatency.RunAsync(system));
    }

    Dictionary<string, long> peak = [];
    if (figures.Contains("all") || figures.Contains("p2") || figures.Contains("p6"))
    {
        var (cycles, memory) = await MetadataCycles.RunAsync(stack, system);
        results.AddRange(cycles);
        peak = memory;
    }

    foreach (var (name, service) in system.Services)
    {
        // P6: cold start to ready, and proportional memory at the peak of the P2 load (targets: 2 s, 100 MB).
        results.Add(new BenchFigure($"P6-{name}-start", $"{name}: cold start to ready", "s", service.Startup.TotalSeconds, "target", 2, "") { Lower = true });
        if (!peak.ContainsKey(name))
        {
            continue;
        }

        // PSS shares each mapped page among the processes that map it (the runtime's files are mapped by all five).
        results.Add(new BenchFigure($"P6-{name}-pss", $"{name}: proportional set size (PSS) under the P2 load", "MB", peak.GetValueOrDefault(name + ":pss") / 1024.0 / 1024.0, "target", 100,
            $"resident (VmRSS) {peak.GetValueOrDefault(name) / 1024.0 / 1024.0:N0} MB, of which the process's own (RssAnon) {peak.GetValueOrDefault(name + ":anon") / 1024.0 / 1024.0:N0} MB") { Lower = true });
    }
}

if (figures.Intersect(["all", "p1", "p2"]).Any() && !args.Contains("--no-compare"))
{
    // The yardsticks of issue #18, in this run on this machine: the previous release (built by scripts/bench in a
    // worktree) and the single-process baseline run the same P1 and P2 phases, one system at a time.
    var others = new List<Func<Task<BenchSystem>>>();
    if (args.SkipWhile(a => a != "--previous").Skip(1).Take(2).ToList() is [var root, var commit])
    {
        others.Add(() => BenchSystem.StartAsync(stack, TimeSpan.FromSeconds(Option("--warmup", 150)), new BenchRelease(root, commit)));
    }
    else
    {
        Console.WriteLine("no previous release to compare with (scripts/bench passes --previous ROOT COMMIT)");
    }

    // --no-baseline: this checkout against the previous release only, to measure one change or setting alone
    // (KEYWARD_BENCH_PREVIOUS=HEAD scripts/bench p2 --no-baseline).
    if (!args.Contains("--no-baseline"))
    {
        others.Add(() => BenchSystem.StartBaselineAsync(stack, TimeSpan.FromSeconds(Option("--warmup", 150))));
    }

    foreach (var start in others)
    {
        await using var other = await start();
        Console.WriteLine($"comparing with {other.Label}…");
        var baseline = other.IsBaseline;
        void Attach(string id, double value, CostPerOperation? cost)
        {
            var index = results.FindIndex(f => f.Id == id);
            if (index >= 0)
            {
                results[index] = baseline
                    ? results[index] with { Baseline = value, BaselineCost = cost?.ToString() }
                    : results[index] with { Previous = value, PreviousCost = cost?.ToString(), PreviousRelease = other.Label };
            }
        }

        if (figures.Contains("all") || figures.Contains("p1"))
        {
            var p1 = await CertificateIssuance.CompareAsync(stack, other, Option("--certificates", 2000));
            Attach("P1", p1.Rate, p1.Cost);
            Attach("P1-cpu", p1.Cost.CpuMs, null);
        }

        if (figures.Contains("all") || figures.Contains("p2"))
        {
            var p2 = await MetadataCycles.CompareAsync(stack, other);
            foreach (var (clients, measured) in p2)
            {
                Attach($"P2-{clients}", measured.Rate, measured.Cost);
            }

            Attach("P2-cpu", p2[16].Cost.CpuMs, null);
            Attach("P2-p50", p2[1].P50, null);
        }
    }
}

Console.WriteLine();
Console.WriteLine($"{"figure",-6} {"measured",14} {"reference",14} {"ratio",8}  what");
foreach (var figure in results)
{
    Console.WriteLine($"{figure.Id,-6} {figure.Value,14:N1} {figure.Reference,14:N1} {figure.Ratio,8:P1}  {figure.Name} ({figure.Unit}) vs {figure.ReferenceName}");
    if (figure.Previous is not null || figure.Baseline is not null)
    {
        Console.WriteLine($"{"",-6} {"",14} previous release {figure.Previous,10:N1} ({figure.RatioToPrevious:N2}×), single-process baseline {figure.Baseline,10:N1} ({figure.RatioToBaseline:P0})");
    }
}

if (output is not null)
{
    var existing = File.Exists(output) ? JsonSerializer.Deserialize<Dictionary<string, BenchFigure>>(File.ReadAllText(output)) ?? [] : [];
    foreach (var figure in results)
    {
        existing[figure.Id] = figure;
    }

    File.WriteAllText(output, JsonSerializer.Serialize(existing, new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"written to {output}");
    var markdown = args.SkipWhile(a => a != "--markdown").Skip(1).FirstOrDefault();
    if (markdown is not null)
    {
        File.WriteAllText(markdown, BenchReport.Markdown(existing.Values));
        Console.WriteLine($"written to {markdown}");
    }
}

return 0;

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var value) ? value : fallback;
}
