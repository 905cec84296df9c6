using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Keyward.Metadata.Core;
using Keyward.Metadata.V1;

namespace Keyward.UnitTests.Metadata;

/// <summary>The metadata service's rules (reference §a.3–a.6, §b), run against the folder port in memory.</summary>
public sealed class FolderUseCaseTests
{
    private const string Signature = "c2lnbmF0dXJl";
    private readonly InMemoryFolderStore _store = new();
    private readonly RecordingAuditTrail _refusals = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));

    private FolderContext As(string user, params string[] roles) =>
        new(new TenantContext("tenant-a", user, roles.Append(KeywardRoles.User).ToHashSet()), _store, _refusals, _clock, new FolderRules());

    private static readonly MetadataLimits Limits = new();

    // These tests are about locks, counters and versions: the signature policy is audit-only here (stored, marked
    // unverified). Signatures are checked in MetadataSignatureTests, with Nextcloud's own signed metadata.
    private static readonly SignaturePolicyOptions AuditOnly = new() { Default = SignaturePolicyOptions.AuditOnly };

    private static WriteMetadata Writer(FolderContext context) => new(context, Limits, AuditOnly, new HeldCertificates());

    /// <summary>A well-formed v2 document: a root's when it names users, a sub-folder's (no users) otherwise.</summary>
    private static string Metadata(params string[] users) =>
        "{\"version\":\"2.0\"," + (users.Length == 0 ? "" : "\"users\":[" + string.Join(",", users.Select(u => "{\"userId\":\"" + u + "\",\"certificate\":\"-----BEGIN CERTIFICATE-----\",\"encryptedMetadataKey\":\"a2V5\"}")) + "],")
        + "\"metadata\":{\"ciphertext\":\"Y2lwaGVy\",\"nonce\":\"bm9uY2U=\",\"authenticationTag\":\"dGFn\"}}";

    private async Task<string> CommittedRootAsync(string id = "1", string owner = "alice", params string[] users)
    {
        await new RegisterFolder(As(owner)).ExecuteAsync(id, null, default);
        var token = await new LockFolder(As(owner)).ExecuteAsync(new LockRequestedBy(id, 1, null, ApiVersion.V2), default);
        await Writer(As(owner)).ExecuteAsync(new MetadataWrite(id, token, Signature, Metadata([owner, .. users]), ApiVersion.V2, Create: true), default);
        await new UnlockFolder(As(owner)).ExecuteAsync(id, token, abort: false, ApiVersion.V2, default);
        return id;
    }

    private static async Task<RefusalReason> RefusedAsync(Func<Task> action) => (await Assert.ThrowsAsync<Refusal>(action)).Reason;

    [Fact]
    public async Task A_lock_write_unlock_cycle_commits_one_version_with_the_lock_counter()
    {
        await CommittedRootAsync();

        var folder = _store.Folder("1")!;
        Assert.Equal(1, folder.Counter);
        Assert.Equal(Signature, folder.Committed!.Signature);
        var version = Assert.Single((await new FolderQueries(As("alice")).VersionsAsync("1", 0, 0, default)).Versions);
        Assert.Equal((1, VersionKinds.Committed, 1L), (version.Number, version.Kind, version.Counter));
        Assert.Contains(_store.Committed, r => r.Action == "metadata.metadata.committed");
        Assert.Empty(_store.Locks("1")!.Locks);
    }

    [Fact]
    public async Task Readers_see_the_committed_version_never_the_pending_one()
    {
        await CommittedRootAsync();
        var token = await new LockFolder(As("alice")).ExecuteAsync(new LockRequestedBy("1", 2, null, ApiVersion.V2), default);
        await Writer(As("alice")).ExecuteAsync(new MetadataWrite("1", token, "bmV3", Metadata("alice", "bob"), ApiVersion.V2, Create: false), default);

        var read = await new ReadMetadata(As("alice")).ExecuteAsync("1", ApiVersion.V2, default);

        Assert.Equal(Signature, read.Signature);
        Assert.Equal(Metadata("alice"), read.Metadata);
    }

    [Fact]
    public async Task Unlock_with_abort_drops_the_pending_version_and_keeps_the_counter()
    {
        await CommittedRootAsync();
        var token = await new LockFolder(As("alice")).ExecuteAsync(new LockRequestedBy("1", 5, null, ApiVersion.V2), default);
        await Writer(As("alice")).ExecuteAsync(new MetadataWrite("1", token, "bmV3", Metadata("alice", "bob"), ApiVersion.V2, Create: false), default);

        await new UnlockFolder(As("alice")).ExecuteAsync("1", token, abort: true, ApiVersion.V2, default);

        var folder = _store.Folder("1")!;
        Assert.Null(folder.Pending);
        Assert.Equal(1, folder.Counter);
        Assert.Single((await new FolderQueries(As("alice")).VersionsAsync("1", 0, 0, default)).Versions);
    }

    [Fact]
    public async Task A_counter_not_above_the_stored_one_is_refused_and_the_refusal_audited()
    {
        await CommittedRootAsync();

        var reason = await RefusedAsync(() => new LockFolder(As("alice")).ExecuteAsync(new LockRequestedBy("1", 1, null, ApiVersion.V2), default));

        Assert.Equal(RefusalReason.CounterTooSmall, reason);
        var audited = Assert.Single(_refusals.Records);
        Assert.Equal(("metadata.lock.acquired", "COUNTER_TOO_SMALL"), (audited.Action, audited.Outcome.Reason));
        Assert.Empty(_store.Locks("1")!.Locks);
    }

    [Fact]
    public async Task A_lock_held_by_another_client_is_refused_as_locked()
    {
        await CommittedRootAsync(users: "bob");
        await new LockFolder(As("alice")).ExecuteAsync(new LockRequestedBy("1", 2, null, ApiVersion.V2), default);

        Assert.Equal(RefusalReason.Locked, await RefusedAsync(() => new LockFolder(As("bob")).ExecuteAsync(new LockRequestedBy("1", 3, null, ApiVersion.V2), default)));
    }

    [Fact]
    public async Task A_user_not_in_the_roots_users_array_is_denied_and_the_denial_audited_on_its_own()
    {
        await CommittedRootAsync(users: "bob");

        Assert.Equal(RefusalReason.AccessDenied, await RefusedAsync(() => new ReadMetadata(As("mallory")).ExecuteAsync("1", ApiVersion.V2, default)));
        Assert.Equal(RefusalReason.AccessDenied, await RefusedAsync(() => new LockFolder(As("mallory")).ExecuteAsync(new LockRequestedBy("1", 9, null, ApiVersion.V2), default)));

        Assert.Equal(["metadata.metadata.read", "metadata.lock.acquired"], _refusals.Records.Select(r => r.Action));
        Assert.All(_refusals.Records, r => Assert.Equal("ACCESS_DENIED", r.Outcome.Reason));
        Assert.Equal(Metadata("alice", "bob"), (await new ReadMetadata(As("bob")).ExecuteAsync("1", ApiVersion.V2, default)).Metadata);
    }

    [Fact]
    public async Task A_write_without_holding_the_lock_is_refused_and_nothing_is_pending()
    {
        await CommittedRootAsync();

        var reason = await RefusedAsync(() => Writer(As("alice")).ExecuteAsync(new MetadataWrite("1", "not-a-token", Signature, Metadata("alice"), ApiVersion.V2, Create: false), default));

        Assert.Equal(RefusalReason.NotLocked, reason);
        Assert.Null(_store.Folder("1")!.Pending);
    }

    [Theory]
    [InlineData("c2ln\r\nbmF0dXJl")]
    [InlineData("c2lnbmF0dXJl\n")]
    [InlineData("c2lu bmF0dXJl")]
    [InlineData("not base64!")]
    [InlineData("c2lnbmF0dXJ")]
    public async Task A_signature_that_is_not_strict_base64_is_refused_before_anything_is_stored(string signature)
    {
        await CommittedRootAsync();
        var token = await new LockFolder(As("alice")).ExecuteAsync(new LockRequestedBy("1", 2, null, ApiVersion.V2), default);
        var commits = _store.Commits;

        var reason = await RefusedAsync(() => Writer(As("alice")).ExecuteAsync(new MetadataWrite("1", token, signature, Metadata("alice"), ApiVersion.V2, Create: false), default));

        Assert.Equal(RefusalReason.SignatureInvalid, reason);
        Assert.Equal(commits, _store.Commits);
        Assert.Equal(Signature, (await new ReadMetadata(As("alice")).ExecuteAsync("1", ApiVersion.V2, default)).Signature);
    }

    [Fact]
    public async Task Metadata_that_is_not_a_json_object_is_refused()
    {
        await CommittedRootAsync();
        var token = await new LockFolder(As("alice")).ExecuteAsync(new LockRequestedBy("1", 2, null, ApiVersion.V2), default);

        Assert.Equal(RefusalReason.MetadataInvalid,
            await RefusedAsync(() => Writer(As("alice")).ExecuteAsync(new MetadataWrite("1", token, Signature, "[1,2]", ApiVersion.V2, Create: false), default)));
    }

    [Fact]
    public async Task Filedrop_merges_entries_and_commits_a_version_but_not_while_a_client_holds_a_lock()
    {
        await CommittedRootAsync(users: "bob");

        var added = await new AddFiledrop(As("bob"), Limits).ExecuteAsync("1", """{"e1":{"ciphertext":"Yw==","nonce":"bg==","authenticationTag":"dA==","users":[{"userId":"alice","encryptedFiledropKey":"aw=="}]}}""", default);
        Assert.Equal("Yw==", added["e1"]!["ciphertext"]!.GetValue<string>());
        Assert.Contains("\"filedrop\":{\"e1\"", _store.Folder("1")!.Committed!.Metadata);
        Assert.Equal(VersionKinds.Filedrop, ((await new FolderQueries(As("alice")).VersionsAsync("1", 0, 0, default)).Versions)[0].Kind);

        await new LockFolder(As("alice")).ExecuteAsync(new LockRequestedBy("1", 2, null, ApiVersion.V2), default);
        Assert.Equal(RefusalReason.Locked, await RefusedAsync(() => new AddFiledrop(As("bob"), Limits).ExecuteAsync("1", """{"e2":{"ciphertext":"Yw==","nonce":"bg==","authenticationTag":"dA==","users":[{"userId":"alice","encryptedFiledropKey":"aw=="}]}}""", default)));
        Assert.Equal(RefusalReason.FiledropInvalid, await RefusedAsync(() => new AddFiledrop(As("bob"), Limits).ExecuteAsync("1", "[]", default)));
    }

    [Fact]
    public async Task Api_1_creates_without_a_lock_and_cannot_read_or_lock_metadata_2()
    {
        await new RegisterFolder(As("alice")).ExecuteAsync("7", null, default);
        await Writer(As("alice")).ExecuteAsync(new MetadataWrite("7", "", "", """{"metadata":{"version":1.2}}""", ApiVersion.V1, Create: true), default);
        Assert.Equal("1.2", (await new ReadMetadata(As("alice")).ExecuteAsync("7", ApiVersion.V1, default)).Version);

        await CommittedRootAsync("8");
        Assert.Equal(RefusalReason.VersionUnsupported, await RefusedAsync(() => new ReadMetadata(As("alice")).ExecuteAsync("8", ApiVersion.V1, default)));
        Assert.Equal(RefusalReason.VersionUnsupported, await RefusedAsync(() => new LockFolder(As("alice")).ExecuteAsync(new LockRequestedBy("8", 0, null, ApiVersion.V1), default)));
    }

    [Fact]
    public async Task Sub_folders_follow_their_root_and_unlock_commits_every_folder_touched_under_the_token()
    {
        await CommittedRootAsync(users: "bob");
        await new RegisterFolder(As("bob")).ExecuteAsync("2", "1", default);
        Assert.Equal("alice", _store.Folder("2")!.OwnerId);

        var token = await new LockFolder(As("bob")).ExecuteAsync(new LockRequestedBy("1", 2, null, ApiVersion.V2), default);
        await Writer(As("bob")).ExecuteAsync(new MetadataWrite("2", token, Signature, Metadata(), ApiVersion.V2, Create: true), default);
        await Writer(As("bob")).ExecuteAsync(new MetadataWrite("1", token, "bmV3", Metadata("alice", "bob"), ApiVersion.V2, Create: false), default);
        await new UnlockFolder(As("bob")).ExecuteAsync("1", token, abort: false, ApiVersion.V2, default);

        Assert.NotNull(_store.Folder("2")!.Committed);
        Assert.Equal("bmV3", _store.Folder("1")!.Committed!.Signature);
        Assert.Equal(RefusalReason.FolderNotEmpty, await RefusedAsync(() => new UnregisterFolder(As("alice")).ExecuteAsync("1", default)));
        Assert.Equal(RefusalReason.FolderRegistered, await RefusedAsync(() => new RegisterFolder(As("alice")).ExecuteAsync("2", "9", default)));
    }

    [Fact]
    public async Task Old_versions_are_for_the_owner_and_current_members_never_an_admin()
    {
        await CommittedRootAsync(users: "bob");

        Assert.Single((await new FolderQueries(As("bob")).VersionsAsync("1", 0, 0, default)).Versions);
        Assert.Equal(RefusalReason.AccessDenied, await RefusedAsync(() => new FolderQueries(As("carol", KeywardRoles.Admin)).VersionsAsync("1", 0, 0, default)));
        Assert.Equal(RefusalReason.VersionNotFound, await RefusedAsync(() => new FolderQueries(As("alice")).VersionAsync("1", 2, default)));
    }

    [Fact]
    public async Task A_collaborator_cannot_unregister_the_owners_folder_nor_claim_its_id()
    {
        // Adversary (c): bob is a member of alice's tree.
        await CommittedRootAsync(users: "bob");

        Assert.Equal(RefusalReason.AccessDenied, await RefusedAsync(() => new UnregisterFolder(As("bob")).ExecuteAsync("1", default)));
        Assert.NotNull(_store.Folder("1"));

        await new UnregisterFolder(As("alice")).ExecuteAsync("1", default);
        Assert.Equal(RefusalReason.FolderClaimed, await RefusedAsync(() => new RegisterFolder(As("bob")).ExecuteAsync("1", null, default)));
        Assert.Equal("metadata.folder.encrypted", _refusals.Records[^1].Action);

        await new RegisterFolder(As("alice")).ExecuteAsync("1", null, default);
        Assert.Equal("alice", _store.Folder("1")!.OwnerId);
    }

    [Fact]
    public async Task An_admin_may_unregister_a_folder_and_that_is_recorded_as_done_by_an_admin()
    {
        await CommittedRootAsync();

        await new UnregisterFolder(As("carol", KeywardRoles.Admin)).ExecuteAsync("1", default);

        Assert.Null(_store.Folder("1"));
        Assert.Equal("true", _store.Committed.Single(r => r.Action == "metadata.folder.decrypted").Details!["by_admin"]);
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(1L << 62)]
    [InlineData((1L << 20) + 2)]
    public async Task A_counter_far_above_the_committed_one_is_refused_and_the_folder_stays_lockable(long counter)
    {
        // Adversary (c): a collaborator who would make the folder unlockable for ever.
        await CommittedRootAsync(users: "bob");

        Assert.Equal(RefusalReason.CounterInvalid, await RefusedAsync(() => new LockFolder(As("bob")).ExecuteAsync(new LockRequestedBy("1", counter, null, ApiVersion.V2), default)));

        Assert.Equal(1, _store.Folder("1")!.Counter);
        Assert.NotEmpty(await new LockFolder(As("alice")).ExecuteAsync(new LockRequestedBy("1", (1L << 20) + 1, null, ApiVersion.V2), default));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("x\0")]
    public async Task A_folder_id_outside_the_allowed_characters_is_refused(string id)
    {
        Assert.Equal(RefusalReason.FolderIdInvalid, await RefusedAsync(() => new RegisterFolder(As("alice")).ExecuteAsync(id, null, default)));
        Assert.Equal(0, _store.Commits);
    }
}
