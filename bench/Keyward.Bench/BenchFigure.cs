namespace Keyward.Bench;

/// <summary>One benchmark figure with the physical reference measured in the same run.</summary>
public sealed record BenchFigure(string Id, string Name, string Unit, double Value, string ReferenceName, double Reference, string Note)
{
    public double Ratio => Reference == 0 ? 0 : Value / Reference;

    public DateTimeOffset MeasuredAt { get; init; } = DateTimeOffset.UtcNow;
}
