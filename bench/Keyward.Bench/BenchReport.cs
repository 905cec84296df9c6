using System.Globalization;
using System.Text;

namespace Keyward.Bench;

/// <summary>docs/benchmarks.md from the latest figures.</summary>
public static class BenchReport
{
    private static readonly Dictionary<string, string> Targets = new()
    {
        ["P1"] = "≥ 3× the previous release, ≥ 50 % of the single-process baseline",
        ["P1-cpu"] = "≤ 3 ms",
        ["P2-cpu"] = "≤ 3 ms",
        ["P2-16"] = "≥ 3× the previous release, ≥ 50 % of the single-process baseline",
        ["P2-p50"] = "≤ 5 ms",
        ["P2-p99"] = "≤ 30 ms",
        ["P3"] = "≥ 10,000 events/s",
        ["P4"] = "≤ 1.5× (gateway / direct)",
        ["P5"] = "≥ 40 % of SHA-256",
        ["P5-export"] = "≥ 40 % of SHA-256",
        ["P7-10000"] = "≤ 150 ms",
        ["P8-append"] = "≥ 3,000 events/s",
        ["P8-latency"] = "≤ 1,000 ms",
        ["P8-proofs"] = "≥ 5,000 proofs/s",
    };

    public static string Markdown(IEnumerable<BenchFigure> figures)
    {
        var text = new StringBuilder();
        text.AppendLine("# Benchmarks");
        text.AppendLine();
        text.AppendLine("Written by `scripts/bench` (Release builds, PostgreSQL with fsync and synchronous_commit on, this 2-core machine).");
        text.AppendLine("Every figure stands next to a physical reference measured in the same run; `bench/results/latest.json` has the raw values.");
        text.AppendLine("Figures are taken after a warm-up that runs until the services' JIT has settled; notes give the methods still compiled while measuring.");
        text.AppendLine("What limits each figure, measured with profiles, and what was changed to get here: [performance.md](performance.md).");
        text.AppendLine();
        text.AppendLine("| figure | measured | reference | ratio | target | what |");
        text.AppendLine("|---|---:|---:|---:|---|---|");
        foreach (var figure in figures.OrderBy(f => f.Id, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {figure.Id} | {figure.Value:N1} {figure.Unit} | {figure.Reference:N1} | {figure.Ratio:P0} | {Targets.GetValueOrDefault(figure.Id, figure.ReferenceName == "target" ? $"≤ {figure.Reference:#,0.##} {figure.Unit}" : "")} | {figure.Name}{(figure.ReferenceName == "target" ? "" : $" vs {figure.ReferenceName}")}{(figure.Note.Length > 0 ? $" ({figure.Note})" : "")} |");
        }

        var compared = figures.Where(f => f.Previous is not null || f.Baseline is not null).OrderBy(f => f.Id, StringComparer.Ordinal).ToList();
        if (compared.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("## Against the previous release and the single-process baseline, same run");
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"The previous release is {compared.Select(f => f.PreviousRelease).FirstOrDefault(r => r is not null) ?? "not measured"} (the commit before issue #18), built in a git worktree by `scripts/bench`;");
            text.AppendLine("the baseline is `bench/Keyward.Baseline`: Keyward's Core code in one process, one durable commit with its audit rows per write.");
            text.AppendLine("Each ratio says how many times better this checkout is (for CPU and latency: the other's value over this one's).");
            text.AppendLine();
            text.AppendLine("| figure | this checkout | previous release | × previous | baseline | of baseline | cost per operation: previous; baseline |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---|");
            foreach (var figure in compared)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {figure.Id} | {figure.Value:N1} {figure.Unit} | {figure.Previous:N1} | {figure.RatioToPrevious:N2}× | {figure.Baseline:N1} | {figure.RatioToBaseline:P0} | {figure.PreviousCost ?? "–"}; {figure.BaselineCost ?? "–"} |");
            }
        }

        text.AppendLine();
        // A run of some figures keeps the others from their own, earlier runs: each run is named with its figures.
        var runs = figures.GroupBy(f => f.MeasuredAt.ToString("yyyy-MM-dd HH", CultureInfo.InvariantCulture)).OrderByDescending(r => r.Key).ToList();
        var earlier = string.Concat(runs.Skip(1).Select(r =>
            string.Create(CultureInfo.InvariantCulture, $"; {string.Join(", ", r.Select(f => f.Id))} in an earlier run ({r.Max(f => f.MeasuredAt):yyyy-MM-dd HH:mm} UTC)")));
        text.AppendLine(CultureInfo.InvariantCulture, $"Measured {figures.Max(f => f.MeasuredAt):yyyy-MM-dd HH:mm} UTC{earlier}.");
        return text.ToString();
    }
}
