using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Keyward.IntegrationTests.Infrastructure;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>
/// The background work every replica runs, with two copies side by side: two keyservers relaying one outbox, two audit
/// services consuming one queue and signing one log's checkpoints. Every action is chained exactly once, with no gap,
/// and the relays take turns instead of publishing the same rows twice. (Two stale-lock sweeps: StaleLockRollbackTests.)
/// </summary>
[Collection(SystemCollection.Name)]
public sealed partial class ReplicaSafetyTests(KeywardSystem system)
{
    private static readonly string Blob = $"{Convert.ToBase64String(new byte[48])}|{Convert.ToBase64String(new byte[12])}|{Convert.ToBase64String(new byte[40])}";

    [Fact]
    public async Task Two_relays_and_two_audit_consumers_chain_every_action_once_without_a_gap_or_a_double_publish()
    {
        await using var keyserver = system.StartExtra("keyserver", "keyserver-second-relay", []);
        await using var audit = system.StartExtra("audit", "audit-second-consumer", []);
        await Task.WhenAll(KeywardSystem.WaitUntilReadyAsync(keyserver), KeywardSystem.WaitUntilReadyAsync(audit));
        var keyservers = string.Join(';', system.Replicas("keyserver").Append(keyserver).Select(k => k.GrpcAddress));
        await using var gateway = system.StartExtra("gateway", "gateway-two-relays", [new("Keyward__Services__keyserver", keyservers)]);
        await KeywardSystem.WaitUntilReadyAsync(gateway);
        var audits = system.Replicas("audit").Append(audit).ToList();
        // What the audit services log from here on (the fixture's have logged earlier tests, tampering drills included).
        var logStarts = audits.ToDictionary(a => a, a => a.ReadLog().Length);
        string LoggedSince(ServiceProcess a) => a.ReadLog()[logStarts[a]..];

        var user = $"twice-{Guid.NewGuid():N}"[..20];
        var ocs = OcsClient.For(system, user, TestTenants.TenantA, gateway: gateway);
        Assert.Equal(HttpStatusCode.OK, (await ocs.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob })).Status);
        const int Reads = 400;
        await Parallel.ForEachAsync(Enumerable.Range(0, Reads), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (_, _) => Assert.Equal(HttpStatusCode.OK, (await ocs.GetAsync("private-key")).Status));

        var auditor = AuditTrailClient.For(system, TestTenants.TenantA);
        var entries = await auditor.WaitForAsync($"actor={user}", Reads + 1, TimeSpan.FromSeconds(60));
        Assert.Equal(Reads + 1, entries.Count);
        Assert.Equal(Reads + 1, entries.Select(e => e.GetProperty("eventId").GetString()).Distinct().Count());
        var sequences = entries.Select(e => Long(e.GetProperty("sequence"))).Order().ToList();
        Assert.Equal(sequences.Distinct().Count(), sequences.Count);

        // Both keyservers' relays served the burst (the gateway balanced over them), yet no event reached the queue twice.
        Assert.Equal(0, audits.Sum(a => IgnoredDuplicates(LoggedSince(a))));

        // Both checkpointers signed heads of the one log, and the log still verifies against them.
        var head = Long((await auditor.HeadAsync()).GetProperty("sequence"));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Long((await auditor.HeadAsync()).GetProperty("lastCheckpointSequence")) < head)
        {
            Assert.True(DateTime.UtcNow < deadline, "the head was not signed");
            await Task.Delay(250);
        }

        var verified = await auditor.VerifyAsync();
        Assert.True(verified.GetProperty("status").GetString() == "VALID", verified.ToString());
        // No checkpointer took the other's progress for a rolled-back log of this tenant (an error, as tampering would be;
        // another test rewinds tenant E's log for good, and its errors are right).
        Assert.All(audits, a => Assert.DoesNotContain(LoggedSince(a).Split('\n'),
            line => line.Contains("\"@l\":\"Error\"", StringComparison.Ordinal) && line.Contains($"\"TenantId\":\"{TestTenants.TenantA}\"", StringComparison.Ordinal)));
    }

    private static long Long(JsonElement value) => value.ValueKind == JsonValueKind.String ? long.Parse(value.GetString()!) : value.GetInt64();

    /// <summary>How many redelivered or twice-published events an audit service has recognised and skipped.</summary>
    private static int IgnoredDuplicates(string log) => IgnoredLine().Matches(log).Sum(m => int.Parse(m.Groups[1].Value));

    [GeneratedRegex(@"Ignored (\d+) audit events of tenant")]
    private static partial Regex IgnoredLine();
}
