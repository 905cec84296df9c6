namespace Keyward.Bench;

/// <summary>
/// One benchmark figure with the physical reference measured in the same run, and (P1, P2) the same figure of the
/// previous release and of the single-process baseline, measured in the same run on the same machine.
/// </summary>
public sealed record BenchFigure(string Id, string Name, string Unit, double Value, string ReferenceName, double Reference, string Note)
{
    public double Ratio => Reference == 0 ? 0 : Value / Reference;

    public DateTimeOffset MeasuredAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The previous release's value of this figure (null when not measured).</summary>
    public double? Previous { get; init; }

    /// <summary>The single-process baseline's value of this figure (null when not measured).</summary>
    public double? Baseline { get; init; }

    /// <summary>Which release <see cref="Previous"/> is, and what an operation cost each of the other two systems.</summary>
    public string? PreviousRelease { get; init; }

    public string? PreviousCost { get; init; }

    public string? BaselineCost { get; init; }

    /// <summary>Smaller is better (CPU, latency): the ratios are then the other's value over this one, so above 1 is better too.</summary>
    public bool Lower { get; init; }

    public double? RatioToPrevious => Gain(Previous);

    public double? RatioToBaseline => Gain(Baseline);

    private double? Gain(double? other) => other is not { } value || value == 0 || Value == 0 ? null : Lower ? value / Value : Value / value;
}

/// <summary>A rate measured on one system, what each operation cost the stack, and its latencies.</summary>
public sealed record Measured(double Rate, CostPerOperation Cost, long Compiled, double P50 = 0, double P99 = 0);
