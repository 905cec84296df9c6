using Keyward.IntegrationTests.Infrastructure;
using Keyward.Tests.Shared;
using Xunit.Abstractions;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>
/// The short form of the malformed-request drill (<see cref="MalformedRequests"/>; `scripts/faults` runs the long
/// one): thousands of requests over a few connections at once. Not one answer may be a 5xx and not one connection may
/// be dropped without an answer; every request gets a 4xx or a 2xx.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class MalformedFloodTests(KeywardSystem system, ITestOutputHelper output)
{
    private const int Requests = 3_000;

    [Fact]
    public async Task Thousands_of_malformed_OCS_requests_get_no_5xx_and_no_dropped_connection()
    {
        var token = system.Tenants.Token($"fuzz-{Guid.NewGuid():N}"[..16], tenant: TestTenants.TenantA);
        var outcome = await MalformedRequests.FloodAsync(system.Gateway.HttpAddress, token, Requests, clients: 8);

        output.WriteLine($"{Requests} requests: {outcome.Summary}");
        Assert.True(outcome.Failures.Count == 0, $"{outcome.Failures.Count} of {Requests} requests got a 5xx or no answer:\n" + string.Join('\n', outcome.Failures.Take(20)));
        Assert.Equal(Requests, outcome.Answered);
    }
}
