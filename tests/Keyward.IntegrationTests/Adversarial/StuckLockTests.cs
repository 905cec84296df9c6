using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Keyward.IntegrationTests.Infrastructure;
using Keyward.Metadata.V1;

namespace Keyward.IntegrationTests.Adversarial;

/// <summary>
/// Stuck locks, from the side of whoever would break one: the user whose crashed client left it (may, once it has been
/// idle), another user of the tenant (may not), a user pretending to be an admin (may not), an admin (may force it, with
/// a reason). Breaking rolls back what was written under the lock, as an abort does; every attempt is audited.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class StuckLockTests(KeywardSystem system)
{
    [Fact]
    public async Task Only_the_lock_holder_breaks_an_idle_lock_others_are_refused_and_audited_and_the_committed_files_stay()
    {
        // Started first, so that the lock below is fresh when the holder first tries: a metadata instance on the same database whose locks count as idle after 5 s (the default is 15 min).
        await using var metadata = system.StartExtra("metadata", "metadata-short-idle", new Dictionary<string, string> { ["Keyward__Metadata__Rules__LockIdleBreakAfter"] = "00:00:05" });
        await KeywardSystem.WaitUntilReadyAsync(metadata);
        var holder = $"stuck-{Guid.NewGuid():N}"[..16];
        var owner = new E2eeFolders(OcsClient.For(system, holder, TestTenants.TenantA));
        var id = await owner.RegisterAsync();
        var original = E2eeFolders.Metadata(holder);
        await owner.CommitAsync(id, original, counter: 1);
        var crashed = await owner.LockedAsync(id, 2);
        Assert.Equal(HttpStatusCode.OK, (await owner.UpdateAsync(id, crashed, E2eeFolders.Metadata(holder, "half-written"))).Status);

        var client = new MetadataService.MetadataServiceClient(GrpcChannel.ForAddress(metadata.GrpcAddress));
        Task<BreakLockResponse> Break(string user, string roles = "user", bool force = false, string reason = "") =>
            client.BreakLockAsync(new BreakLockRequest { FolderId = id, Force = force, Reason = reason },
                new Grpc.Core.Metadata { { "authorization", $"Bearer {system.Tenants.Token(user, roles, TestTenants.TenantA)}" } }).ResponseAsync;

        var inUse = await Assert.ThrowsAsync<RpcException>(() => Break(holder));
        Assert.Equal(StatusCode.FailedPrecondition, inUse.StatusCode);
        Assert.Contains("may be broken once idle for 5 s", inUse.Status.Detail);
        var intruder = $"intruder-{Guid.NewGuid():N}"[..16];
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => Break(intruder))).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => Break(intruder, force: true, reason: "I say so"))).StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => Break("some-admin", "user,admin", force: true))).StatusCode);
        Assert.Equal(HttpStatusCode.Locked, (await owner.LockAsync(id, 2)).Status);

        await Task.Delay(TimeSpan.FromSeconds(5.5));
        var broken = await Break(holder);
        Assert.Equal(holder, broken.LockedBy);
        Assert.Equal(1, broken.RolledBackFolders);

        // The half-written metadata is gone, the committed one stays, the folder can be locked again, the old token is dead.
        Assert.Equal(original, (await owner.GetAsync(id)).Data.GetProperty("meta-data").GetString());
        var fresh = await owner.LockedAsync(id, 2);
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.UnlockAsync(id, crashed)).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(id, fresh)).Status);

        var auditor = AuditTrailClient.For(system, TestTenants.TenantA);
        var done = Assert.Single(await auditor.WaitForAsync($"actionPrefix=metadata.lock.broken&targetId={id}&outcome=success", 1));
        Assert.Equal(holder, done.GetProperty("actor").GetString());
        Assert.Contains($"\"locked_by\":\"{holder}\"", done.GetProperty("event").GetString());
        await auditor.WaitForAsync($"actionPrefix=metadata.lock.broken&targetId={id}&actor={intruder}", 1);
        await auditor.WaitForAsync($"actionPrefix=metadata.lock.forced&targetId={id}&actor={intruder}", 1);
    }

    [Fact]
    public async Task An_admin_forces_a_fresh_lock_open_through_the_gateway_and_the_reason_is_in_the_audit_trail()
    {
        var holder = $"busy-{Guid.NewGuid():N}"[..16];
        var owner = new E2eeFolders(OcsClient.For(system, holder, TestTenants.TenantA));
        var id = await owner.RegisterAsync();
        await owner.CommitAsync(id, E2eeFolders.Metadata(holder), counter: 1);
        await owner.LockedAsync(id, 2);

        const string reason = "ticket 4711: laptop stolen while syncing";
        using var admin = system.Http(system.Gateway, system.Tenants.Token("helpdesk", "user,admin", TestTenants.TenantA));
        using var missing = await admin.PostAsJsonAsync($"/v1/folders/{id}/lock:break", new { force = true });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        using var forced = await admin.PostAsJsonAsync($"/v1/folders/{id}/lock:break", new { force = true, reason });
        Assert.True(forced.IsSuccessStatusCode, await forced.Content.ReadAsStringAsync());
        var body = JsonDocument.Parse(await forced.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(holder, body.GetProperty("lockedBy").GetString());

        Assert.Equal(HttpStatusCode.OK, (await owner.LockAsync(id, 2)).Status);
        var audited = Assert.Single(await AuditTrailClient.For(system, TestTenants.TenantA).WaitForAsync($"actionPrefix=metadata.lock.forced&targetId={id}&outcome=success", 1));
        Assert.Equal("helpdesk", audited.GetProperty("actor").GetString());
        Assert.Contains(reason, audited.GetProperty("event").GetString());
    }
}
