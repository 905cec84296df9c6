using System.Net;
using Keyward.IntegrationTests.Infrastructure;

namespace Keyward.IntegrationTests.Integration;

/// <summary>A lock left by a crashed client is rolled back by the service after its TTL, and the rollback is audited.</summary>
[Collection(SystemCollection.Name)]
public sealed class StaleLockRollbackTests(KeywardSystem system)
{
    [Fact]
    public async Task A_stale_lock_is_rolled_back_its_pending_metadata_dropped_and_the_folder_usable_again()
    {
        var user = $"crashy-{Guid.NewGuid():N}"[..20];
        var owner = new E2eeFolders(OcsClient.For(system, user, TestTenants.TenantA));
        var id = await owner.RegisterAsync();
        var original = E2eeFolders.Metadata(user);
        await owner.CommitAsync(id, original, counter: 1);
        var abandoned = await owner.LockedAsync(id, 2);
        Assert.Equal(HttpStatusCode.OK, (await owner.UpdateAsync(id, abandoned, E2eeFolders.Metadata(user, "half-written"))).Status);
        Assert.Equal(HttpStatusCode.Locked, (await owner.LockAsync(id, 2)).Status);

        // A second metadata instance with a short TTL does the sweeping (the fixture's one keeps the 24 h default).
        await using var sweeper = system.StartExtra("metadata", "metadata-sweeper", new Dictionary<string, string>
        {
            ["Keyward__Metadata__StaleLocks__Ttl"] = "00:00:02",
            ["Keyward__Metadata__StaleLocks__Interval"] = "00:00:00.500",
        });
        await KeywardSystem.WaitUntilReadyAsync(sweeper);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        OcsReply relock;
        while ((relock = await owner.LockAsync(id, 2)).Status != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the stale lock was not rolled back: {relock.Text}");
            await Task.Delay(300);
        }

        var token = relock.Data.GetProperty("e2e-token").GetString()!;
        Assert.NotEqual(abandoned, token);
        Assert.Equal(original, (await owner.GetAsync(id)).Data.GetProperty("meta-data").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.UnlockAsync(id, abandoned)).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(id, token)).Status);

        var expired = await AuditTrailClient.For(system, TestTenants.TenantA).WaitForAsync($"actionPrefix=metadata.lock.expired&targetId={id}", 1);
        Assert.Single(expired);
        Assert.Equal($"system:metadata", expired[0].GetProperty("actor").GetString());
    }
}
