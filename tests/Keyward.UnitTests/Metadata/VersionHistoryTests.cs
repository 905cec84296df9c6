using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Keyward.Metadata.Core;
using Keyward.Metadata.V1;

namespace Keyward.UnitTests.Metadata;

/// <summary>Last good version and reset (issue #15): versions page, the owner restores one under a lock, DELETE encrypted-files removes only the caller's trees.</summary>
public sealed class VersionHistoryTests
{
    private static readonly SignaturePolicyOptions AuditOnly = new() { Default = SignaturePolicyOptions.AuditOnly };
    private readonly InMemoryFolderStore _store = new();
    private readonly RecordingAuditTrail _refusals = new();

    private FolderContext As(string user) =>
        new(new TenantContext("tenant-a", user, new HashSet<string> { KeywardRoles.User }), _store, _refusals, new ManualClock(DateTimeOffset.UtcNow), new FolderRules());

    private static string Metadata(string marker, params string[] users) =>
        "{\"version\":\"2.0\",\"users\":[" + string.Join(",", users.Select(u => "{\"userId\":\"" + u + "\",\"certificate\":\"-----BEGIN CERTIFICATE-----\",\"encryptedMetadataKey\":\"a2V5\"}"))
        + "],\"metadata\":{\"ciphertext\":\"" + marker + "\",\"nonce\":\"bm9uY2U=\",\"authenticationTag\":\"dGFn\"}}";

    private async Task CommitAsync(string id, string user, long counter, string metadata, bool create)
    {
        var token = await new LockFolder(As(user)).ExecuteAsync(new LockRequestedBy(id, counter, null, ApiVersion.V2), default);
        await new WriteMetadata(As(user), new MetadataLimits(), AuditOnly, new HeldCertificates()).ExecuteAsync(new MetadataWrite(id, token, "c2ln", metadata, ApiVersion.V2, create), default);
        await new UnlockFolder(As(user)).ExecuteAsync(id, token, abort: false, ApiVersion.V2, default);
    }

    private async Task<string> RootWithVersionsAsync(int versions, string owner = "alice", params string[] members)
    {
        await new RegisterFolder(As(owner)).ExecuteAsync("1", null, default);
        for (var v = 1; v <= versions; v++)
        {
            await CommitAsync("1", owner, v, Metadata($"djE{v}", [owner, .. members]), create: v == 1);
        }

        return "1";
    }

    [Fact]
    public async Task Versions_come_newest_first_a_page_at_a_time_with_a_cursor_to_the_next()
    {
        await RootWithVersionsAsync(7);
        var queries = new FolderQueries(As("alice"));

        var first = await queries.VersionsAsync("1", 0, 3, default);
        var second = await queries.VersionsAsync("1", first.NextBefore, 3, default);
        var last = await queries.VersionsAsync("1", second.NextBefore, 3, default);

        Assert.Equal([7, 6, 5], first.Versions.Select(v => v.Number));
        Assert.Equal([4, 3, 2], second.Versions.Select(v => v.Number));
        Assert.Equal([1], last.Versions.Select(v => v.Number));
        Assert.Equal((5, 2, 0), (first.NextBefore, second.NextBefore, last.NextBefore));
        Assert.Equal(RefusalReason.QueryInvalid, (await Assert.ThrowsAsync<Refusal>(() => queries.VersionsAsync("1", 0, 501, default))).Reason);
    }

    [Fact]
    public async Task The_owner_restores_a_version_under_a_lock_as_a_new_version_with_the_next_counter()
    {
        await RootWithVersionsAsync(3, "alice", "bob");
        var token = await new LockFolder(As("alice")).ExecuteAsync(new LockRequestedBy("1", 4, null, ApiVersion.V2), default);

        var restored = await new RestoreVersion(As("alice")).ExecuteAsync("1", 1, token, default);

        Assert.Equal((4, VersionKinds.Restored, 4L), (restored.Number, restored.Kind, restored.Counter));
        Assert.Equal(Metadata("djE1", "alice", "bob"), _store.Folder("1")!.Committed!.Metadata);
        Assert.Contains(_store.Committed, r => r.Action == "metadata.version.restored" && r.Details["restored"] == "1");
        await new UnlockFolder(As("alice")).ExecuteAsync("1", token, abort: false, ApiVersion.V2, default);
        Assert.Equal(4, _store.Folder("1")!.Counter);
    }

    [Fact]
    public async Task A_member_who_is_not_the_owner_or_holds_no_lock_cannot_restore()
    {
        await RootWithVersionsAsync(2, "alice", "bob");
        var bobs = await new LockFolder(As("bob")).ExecuteAsync(new LockRequestedBy("1", 3, null, ApiVersion.V2), default);

        Assert.Equal(RefusalReason.AccessDenied, (await Assert.ThrowsAsync<Refusal>(() => new RestoreVersion(As("bob")).ExecuteAsync("1", 1, bobs, default))).Reason);
        Assert.Contains(_refusals.Records, r => r.Action == "metadata.version.restored" && r.Outcome.Reason == "ACCESS_DENIED");
        Assert.Equal(RefusalReason.NotLocked, (await Assert.ThrowsAsync<Refusal>(() => new RestoreVersion(As("alice")).ExecuteAsync("1", 1, "not-the-lock", default))).Reason);
        Assert.Equal(2, _store.Folder("1")!.LastVersion);
    }

    [Fact]
    public async Task Reset_removes_every_folder_of_the_callers_trees_and_nothing_of_others_and_numbering_continues()
    {
        await RootWithVersionsAsync(2, "alice", "bob");
        await new RegisterFolder(As("alice")).ExecuteAsync("2", "1", default);
        await new RegisterFolder(As("alice")).ExecuteAsync("3", null, default);
        await new RegisterFolder(As("bob")).ExecuteAsync("4", null, default);

        var deleted = await new ResetFolders(As("alice")).ExecuteAsync(default);

        Assert.Equal(["1", "2", "3"], deleted.Order());
        Assert.Equal("2", deleted[0]); // the sub-folder before its root
        Assert.Null(_store.Folder("1"));
        Assert.NotNull(_store.Folder("4"));
        Assert.Equal(3, _store.Committed.Count(r => r.Action == "metadata.folder.reset"));

        await new RegisterFolder(As("alice")).ExecuteAsync("1", null, default);
        Assert.Equal(2, _store.Folder("1")!.LastVersion);
    }
}
