using System.Text.Json;
using Keyward.Bench;

// dotnet bench/Keyward.Bench/bin/Release/net10.0/Keyward.Bench.dll [p3] [p5] [--events N] [--out FILE]
var figures = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal) && !int.TryParse(a, out _)).DefaultIfEmpty("all").ToList();
var events = Option("--events", 20_000);
var output = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault();
var stack = StackEnvironment.Load();
var results = new List<BenchFigure>();

if (figures.Contains("all") || figures.Contains("p3"))
{
    results.Add(await AuditThroughput.RunAsync(stack, events));
}

if (figures.Contains("all") || figures.Contains("p5"))
{
    results.Add(await ChainVerification.RunAsync(stack));
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
}

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var value) ? value : fallback;
}
