using System.Net;
using Keyward.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>
/// Two replicas of a service behind one gateway (`Keyward:Services:&lt;service&gt;` with two addresses): OCS calls
/// (the gateway's own gRPC clients, balanced by the channel, retried on the other replica) and REST calls (YARP,
/// balanced over the destinations its active probe finds answering) keep being served when one replica is killed -9,
/// and by the other alone afterwards.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ReplicaTests(KeywardSystem system, ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_one_of_two_keyserver_replicas_leaves_OCS_and_REST_served_by_the_other()
    {
        await using var replica = system.StartExtra("keyserver", "keyserver-replica", []);
        await KeywardSystem.WaitUntilReadyAsync(replica);
        var primary = system.Service("keyserver").GrpcAddress;
        await using var gateway = system.StartExtra("gateway", "gateway-two-keyservers",
            [new("Keyward__Services__keyserver", $"{primary};{replica.GrpcAddress}")]);
        await KeywardSystem.WaitUntilReadyAsync(gateway);

        var user = $"replica-{Guid.NewGuid():N}"[..16];
        var ocs = OcsClient.For(system, user, TestTenants.TenantA, gateway: gateway);
        using var rest = system.Http(gateway, system.Tenants.Token(user, tenant: TestTenants.TenantA));
        async Task<(int Ocs, int Transcoded)> CallBothAsync()
        {
            var key = (int)(await ocs.GetAsync("private-key")).Status;
            using var status = await rest.GetAsync("/v1/keys/status");
            return (key, (int)status.StatusCode);
        }

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal((404, 200), await CallBothAsync());
        }

        await replica.DisposeAsync(); // SIGKILL
        var duringKill = new List<(int, int)>();
        for (var i = 0; i < 10; i++)
        {
            duringKill.Add(await CallBothAsync());
        }

        // The probe looks every 2 s: after that the dead replica is out of the picks for good.
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal((404, 200), await CallBothAsync());
        }

        output.WriteLine("right after the kill (OCS, REST): " + string.Join(" ", duringKill));
        // OCS: a call that found the dead replica is retried on the other, so none fails. REST through YARP: until the
        // probe has seen the replica gone, a request sent to it is 503 with Retry-After (an outage, never another 5xx).
        Assert.All(duringKill, c => Assert.Equal(404, c.Item1));
        Assert.All(duringKill, c => Assert.True(c.Item2 is 200 or 503, $"REST answered {c.Item2}"));
    }
}
