using System.Text.Json;
using Keyward.Bench;

// dotnet bench/Keyward.Bench/bin/Release/net10.0/Keyward.Bench.dll [p1..p8] (p5 runs with p8; p7: metadata size) [--events N] [--certificates N] [--warmup MAX_SECONDS] [--out FILE] [--markdown FILE] [--report-only]
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
    await using var system = await BenchSystem.StartAsync(stack, TimeSpan.FromSeconds(Option("--warmup", 150)));
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
        results.Add(await KeyLookupLatency.RunAsync(system));
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
        // P6: cold start to ready, and resident memory at the peak of the P2 load (targets: 10 s, 150 MB).
        results.Add(new BenchFigure($"P6-{name}-start", $"{name}: cold start to ready", "s", service.Startup.TotalSeconds, "target", 10, ""));
        if (!peak.ContainsKey(name))
        {
            continue;
        }

        results.Add(new BenchFigure($"P6-{name}-rss", $"{name}: resident memory under the P2 load", "MB", peak.GetValueOrDefault(name) / 1024.0 / 1024.0, "target", 150,
            $"of which the process's own (RssAnon, not mapped files shared with the other services): {peak.GetValueOrDefault(name + ":anon") / 1024.0 / 1024.0:N0} MB"));
    }
}

Console.WriteLine();
Console.WriteLine($"{"figure",-6} {"measured",14} {"reference",14} {"ratio",8}  what");
foreach (var figure in results)
{
    Console.WriteLine($"{figure.Id,-6} {figure.Value,14:N1} {figure.Reference,14:N1} {figure.Ratio,8:P1}  {figure.Name} ({figure.Unit}) vs {figure.ReferenceName}");
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
