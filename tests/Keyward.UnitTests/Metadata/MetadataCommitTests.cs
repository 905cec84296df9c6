using Keyward.Metadata.Core;
using Keyward.Tests.Shared;

namespace Keyward.UnitTests.Metadata;

public sealed class MetadataCommitTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private const string V2 = """{"metadata":{"ciphertext":"x"},"users":[{"userId":"alice"},{"userId":"bob"}],"version":"2.0"}""";

    private static EncryptedFolder Root() => new() { Id = "1", RootId = "1", OwnerId = "alice" };

    [Fact]
    public void Unlock_commits_pending_metadata_and_advances_the_counter_to_the_locks()
    {
        var folder = Root();
        folder.PendingCounter = 3;
        folder.Pending = new PendingMetadata(V2, "sig", "t", "alice", Now);

        var version = MetadataCommit.Commit(folder, "alice", Now);

        Assert.Equal(V2, folder.Committed!.Metadata);
        Assert.Equal("sig", folder.Committed.Signature);
        Assert.Equal("2.0", folder.Committed.Version);
        Assert.Equal(3, folder.Counter);
        Assert.Null(folder.Pending);
        Assert.Null(folder.PendingCounter);
        Assert.Equal(["alice", "bob"], folder.Users);
        Assert.Equal(1, version!.Number);
        Assert.Equal(VersionKinds.Committed, version.Kind);
        Assert.Equal(MetadataCommit.Sha256(V2), version.Sha256);
    }

    [Fact]
    public void Nothing_pending_commits_nothing_and_leaves_the_counter()
    {
        var folder = Root();
        folder.Counter = 2;
        folder.PendingCounter = 9;

        Assert.Null(MetadataCommit.Commit(folder, "alice", Now));
        Assert.Equal(2, folder.Counter);
    }

    [Fact]
    public void A_pending_delete_removes_the_committed_metadata_and_its_users()
    {
        var folder = Root();
        folder.Pending = new PendingMetadata(V2, "sig", "t", "alice", Now);
        MetadataCommit.Commit(folder, "alice", Now);
        folder.Pending = new PendingMetadata(null, "sig", "t", "alice", Now);

        var version = MetadataCommit.Commit(folder, "alice", Now);

        Assert.Null(folder.Committed);
        Assert.Empty(folder.Users);
        Assert.Equal(VersionKinds.Deleted, version!.Kind);
        Assert.Equal(2, version.Number);
    }

    [Fact]
    public void A_sub_folder_never_takes_users_from_its_metadata()
    {
        var sub = new EncryptedFolder { Id = "2", RootId = "1", ParentId = "1", AncestorIds = ["1"], OwnerId = "alice" };
        sub.Pending = new PendingMetadata(V2, "sig", "t", "alice", Now);

        MetadataCommit.Commit(sub, "alice", Now);

        Assert.Empty(sub.Users);
    }

    [Fact]
    public void Abort_drops_pending_metadata_and_counter()
    {
        var folder = Root();
        folder.Pending = new PendingMetadata(V2, "sig", "t", "alice", Now);
        folder.PendingCounter = 4;

        Assert.True(MetadataCommit.Abort(folder));
        Assert.Null(folder.Pending);
        Assert.Null(folder.PendingCounter);
        Assert.Equal(0, folder.Counter);
    }

    [Theory]
    [InlineData("""{"metadata":{"version":1}}""", "1", true)]
    [InlineData("""{"metadata":{"version":1.2}}""", "1.2", true)]
    [InlineData("""{"metadata":{"version":"1.2"}}""", "1.2", true)]
    [InlineData("""{"version":"2.0","metadata":{}}""", "2.0", false)]
    [InlineData("""{"version":"2.1"}""", "2.1", false)]
    public void Only_the_version_is_read_wherever_the_format_keeps_it(string metadata, string version, bool isVersion1)
    {
        var inspected = MetadataDocument.Inspect(metadata);

        Assert.Equal(version, inspected.Version);
        Assert.Equal(isVersion1, MetadataDocument.IsVersion1(inspected.Version));
    }

    [Fact]
    public void The_users_of_the_root_vector_are_read_and_nothing_else()
    {
        var metadata = Vectors.Load("e2ee-app-v2/root-folder-metadata.json").GetProperty("metadataJson").GetRawText();

        var inspected = MetadataDocument.Inspect(metadata);

        Assert.Equal(["alice", "admin"], inspected.UserIds);
        Assert.Equal("2.0", inspected.Version);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("not json")]
    [InlineData("\"a string\"")]
    public void Anything_but_a_JSON_object_is_refused(string metadata)
    {
        Assert.False(MetadataDocument.TryInspect(metadata, out _));
    }

    [Fact]
    public void Filedrop_entries_are_merged_replacing_the_same_key()
    {
        const string metadata = """{"version":"2.0","filedrop":{"a":{"n":1},"b":{"n":2}},"users":[]}""";

        var merged = MetadataDocument.MergeFiledrop(metadata, new System.Text.Json.Nodes.JsonObject { ["b"] = new System.Text.Json.Nodes.JsonObject { ["n"] = 3 }, ["c"] = 4 });

        Assert.Equal("""{"version":"2.0","filedrop":{"a":{"n":1},"b":{"n":3},"c":4},"users":[]}""", merged);
    }

    [Fact]
    public void Lock_tokens_are_64_alphanumeric_characters_and_never_repeat()
    {
        var tokens = Enumerable.Range(0, 100).Select(_ => LockToken.New()).ToList();

        Assert.All(tokens, t => Assert.Matches("^[A-Za-z0-9]{64}$", t));
        Assert.Equal(100, tokens.Distinct().Count());
    }
}
