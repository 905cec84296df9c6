using System.Net;
using Keyward.IntegrationTests.Infrastructure;

namespace Keyward.IntegrationTests.Adversarial;

/// <summary>Adversary (c), a collaborator on a shared folder: no takeover of the owner's folder, no folder made unlockable.</summary>
[Collection(SystemCollection.Name)]
public sealed class FolderAdversaryTests(KeywardSystem system)
{
    private E2eeFolders As(string user) => new(OcsClient.For(system, user, TestTenants.TenantA));

    private static string NewUser(string role) => $"{role}-{Guid.NewGuid():N}"[..16];

    [Fact]
    public async Task A_collaborator_cannot_unregister_the_owners_root_nor_claim_its_id_and_the_owner_keeps_access()
    {
        var ownerId = NewUser("owner");
        var collaboratorId = NewUser("collab");
        var owner = As(ownerId);
        var collaborator = As(collaboratorId);
        var id = await owner.RegisterAsync();
        await owner.CommitAsync(id, E2eeFolders.Metadata(ownerId, collaboratorId), counter: 1);

        var unregister = await collaborator.UnregisterAsync(id);
        Assert.Equal(HttpStatusCode.Forbidden, unregister.Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(id)).Status);

        // Even once the owner has removed the flag, the id stays the owner's.
        Assert.Equal(HttpStatusCode.OK, (await owner.UnregisterAsync(id)).Status);
        var claim = await collaborator.RegisterAsync(id, null);
        Assert.Equal(HttpStatusCode.Forbidden, claim.Status);
        Assert.Equal("You are not allowed to set the encryption flag on this folder", claim.DataMessage);
        Assert.Equal(HttpStatusCode.OK, (await owner.RegisterAsync(id, null)).Status);
    }

    [Theory]
    [InlineData(1L << 62)]
    [InlineData(long.MaxValue)]
    public async Task A_collaborators_counter_far_above_the_committed_one_is_400_and_the_folder_stays_lockable(long counter)
    {
        var ownerId = NewUser("owner");
        var collaboratorId = NewUser("collab");
        var owner = As(ownerId);
        var id = await owner.RegisterAsync();
        await owner.CommitAsync(id, E2eeFolders.Metadata(ownerId, collaboratorId), counter: 1);

        var refused = await As(collaboratorId).LockAsync(id, counter);

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("X-NC-E2EE-COUNTER is too far above the current counter", refused.DataMessage);
        var token = await owner.LockedAsync(id, 2);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(id, token)).Status);
    }
}
