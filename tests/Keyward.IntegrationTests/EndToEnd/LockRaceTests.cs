using System.Net;
using Keyward.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>
/// The lock-race drill: two and four devices of a folder's members asking for its lock at the same instant, hundreds
/// of times. Each round exactly one wins; the others hear 423 Locked (never a 5xx, never two winners), and the
/// winner's unlock frees the folder for the next round.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class LockRaceTests(KeywardSystem system, ITestOutputHelper output)
{
    [Theory]
    [InlineData(2, 300)]
    [InlineData(4, 100)]
    public async Task Exactly_one_of_several_racing_devices_gets_the_lock_every_round(int devices, int rounds)
    {
        var user = $"race-{Guid.NewGuid():N}"[..16];
        var first = new E2eeFolders(OcsClient.For(system, user, TestTenants.TenantA));
        var id = await first.RegisterAsync();
        await first.CommitAsync(id, E2eeFolders.Metadata(user), counter: 1);
        var racers = new[] { first }.Concat(Enumerable.Range(1, devices - 1).Select(_ => new E2eeFolders(OcsClient.For(system, user, TestTenants.TenantA)))).ToList();

        var outcomes = new Dictionary<HttpStatusCode, int>();
        for (var round = 0; round < rounds; round++)
        {
            using var start = new Barrier(devices);
            // The counter is not used up: an unlock with nothing written leaves the folder's counter where it was (§b).
            var replies = await Task.WhenAll(racers.Select(racer => Task.Run(async () =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(10));
                return await racer.LockAsync(id, 2);
            })));

            foreach (var reply in replies)
            {
                outcomes[reply.Status] = outcomes.GetValueOrDefault(reply.Status) + 1;
            }

            var winners = replies.Select((reply, device) => (reply, device)).Where(r => r.reply.Status == HttpStatusCode.OK).ToList();
            Assert.True(winners.Count == 1, $"round {round}: {winners.Count} winners ({string.Join(", ", replies.Select(r => (int)r.Status))})");
            Assert.All(replies.Where(r => r.Status != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Locked, r.Status));
            var (won, device) = winners[0];
            Assert.Equal(HttpStatusCode.OK, (await racers[device].UnlockAsync(id, won.Data.GetProperty("e2e-token").GetString())).Status);
        }

        output.WriteLine($"{devices} devices × {rounds} rounds: " + string.Join(", ", outcomes.Select(o => $"{(int)o.Key} × {o.Value}")));
    }
}
