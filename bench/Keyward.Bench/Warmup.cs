using System.Diagnostics;

namespace Keyward.Bench;

/// <summary>
/// Runs a workload until the services' JIT has settled, so that a figure measures the steady state and not
/// tiered compilation: on this 2-core machine re-compiling the hot methods keeps a core busy for a minute or
/// more of load (profiled with perf: the ".NET Tiered Compilation" threads took 18 % of all CPU 75 s into a run).
/// </summary>
public static class Warmup
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(5);

    /// <summary>Fewer methods than this compiled in a window, over all five services, counts as settled.</summary>
    private const long Settled = 25;

    public static async Task RunAsync(BenchSystem system, string what, int workers, Func<int, Task> step, TimeSpan max)
    {
        var stopwatch = Stopwatch.StartNew();
        var stop = false;
        long steps = 0;
        var running = Enumerable.Range(0, workers).Select(async worker =>
        {
            while (!Volatile.Read(ref stop))
            {
                await step(worker);
                Interlocked.Increment(ref steps);
            }
        }).ToList();

        var first = system.MethodsCompiled();
        var last = first;
        long recent;
        while (true)
        {
            await Task.Delay(Window);
            var now = system.MethodsCompiled();
            recent = now - last;
            last = now;
            if (recent < Settled || stopwatch.Elapsed >= max)
            {
                break;
            }
        }

        Volatile.Write(ref stop, true);
        await Task.WhenAll(running);
        await system.WaitForOutboxesAsync();
        Console.WriteLine($"    warm-up ({what}): {stopwatch.Elapsed.TotalSeconds:N0} s, {steps:N0} operations, {last - first:N0} methods compiled; " +
            (recent < Settled ? $"settled ({recent} in the last {Window.TotalSeconds:N0} s)" : $"NOT settled after {max.TotalSeconds:N0} s ({recent} in the last {Window.TotalSeconds:N0} s)"));
    }
}
