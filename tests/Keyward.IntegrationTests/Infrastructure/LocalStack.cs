using System.Diagnostics;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>Failure drills on the local stack (scripts/stack): the broker or the database taken away and brought back.</summary>
public static class LocalStack
{
    public static async Task RunAsync(KeywardSystem system, string command)
    {
        var start = new ProcessStartInfo(Path.Combine(system.Stack.RepositoryRoot, "scripts", "stack"), [command]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync());
    }
}
