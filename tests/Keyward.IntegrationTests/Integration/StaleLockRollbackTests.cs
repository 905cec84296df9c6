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

        // Two more metadata instances with a short TTL do the sweeping side by side, as replicas do (the fixture's keep
        // the 24 h default): the lock is rolled back once, not twice.
        var shortTtl = new Dictionary<string, string>
        {
            ["Keyward__Metadata__StaleLocks__Ttl"] = "00:00:02",
            ["Keyward__Metadata__StaleLocks__Interval"] = "00:00:00.500",
        };
        await using var sweeper = system.StartExtra("metadata", "metadata-sweeper", shortTtl);
        await using var secondSweeper = system.StartExtra("metadata", "metadata-sweeper-2", shortTtl);
        await Task.WhenAll(KeywardSystem.WaitUntilReadyAsync(sweeper), KeywardSystem.WaitUntilReadyAsync(secondSweeper));

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

        var auditor = AuditTrailClient.For(system, TestTenants.TenantA);
        await auditor.WaitForAsync($"actionPrefix=metadata.lock.expired&targetId={id}", 1);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // both sweepers have looked again since, and the audit trail has caught up
        var expired = await auditor.QueryAsync($"actionPrefix=metadata.lock.expired&targetId={id}");
        Assert.Single(expired);
        Assert.Equal($"system:metadata", expired[0].GetProperty("actor").GetString());
    }

    [Fact]
    public async Task A_tenants_own_ttl_rolls_back_its_stale_locks_and_leaves_other_tenants_to_the_default()
    {
        async Task<(E2eeFolders Owner, string Id)> LockedFolderAsync(string tenant)
        {
            var user = $"ttl-{Guid.NewGuid():N}"[..16];
            var owner = new E2eeFolders(OcsClient.For(system, user, tenant));
            var id = await owner.RegisterAsync();
            await owner.CommitAsync(id, E2eeFolders.Metadata(user), counter: 1);
            await owner.LockedAsync(id, 2);
            return (owner, id);
        }

        var (impatient, impatientFolder) = await LockedFolderAsync(TestTenants.TenantB);
        var (patient, patientFolder) = await LockedFolderAsync(TestTenants.TenantC);

        // Tenant B's locks go stale after 2 s; everyone else keeps the 24 h default.
        await using var sweeper = system.StartExtra("metadata", "metadata-tenant-ttl", new Dictionary<string, string>
        {
            [$"Keyward__Metadata__StaleLocks__Tenants__{TestTenants.TenantB}"] = "00:00:02",
            ["Keyward__Metadata__StaleLocks__Interval"] = "00:00:00.500",
        });
        await KeywardSystem.WaitUntilReadyAsync(sweeper);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        OcsReply relock;
        while ((relock = await impatient.LockAsync(impatientFolder, 2)).Status != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, $"tenant B's stale lock was not rolled back: {relock.Text}");
            await Task.Delay(300);
        }

        // Several sweeps have run since: tenant C's lock, as old, is still there.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(HttpStatusCode.Locked, (await patient.LockAsync(patientFolder, 2)).Status);
        Assert.Single(await AuditTrailClient.For(system, TestTenants.TenantB).WaitForAsync($"actionPrefix=metadata.lock.expired&targetId={impatientFolder}", 1));
    }
}
