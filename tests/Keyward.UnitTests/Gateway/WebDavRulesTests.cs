using Keyward.Gateway.Core;

namespace Keyward.UnitTests.Gateway;

/// <summary>The front door's WebDAV write rules, in the reference's order (§1.3), with its gaps closed.</summary>
public sealed class WebDavRulesTests
{
    [Theory]
    [InlineData(false, null, false, null, false, DavWriteVerdict.Pass)] // a plain folder: nothing is asked, not even the client
    [InlineData(false, false, false, null, false, DavWriteVerdict.Pass)]
    [InlineData(true, false, true, "t", true, DavWriteVerdict.MixedMove)] // out of an encrypted folder, even under its lock
    [InlineData(false, true, true, "t", true, DavWriteVerdict.MixedMove)] // into one
    [InlineData(true, null, false, "t", true, DavWriteVerdict.ClientNotAllowed)] // the client comes before the token
    [InlineData(true, null, true, null, false, DavWriteVerdict.NoToken)]
    [InlineData(true, null, true, "", false, DavWriteVerdict.NoToken)]
    [InlineData(true, null, true, "t", false, DavWriteVerdict.NotLocked)]
    [InlineData(true, true, true, "t", false, DavWriteVerdict.NotLocked)]
    [InlineData(true, true, true, "t", true, DavWriteVerdict.Pass)]
    [InlineData(true, null, true, "t", true, DavWriteVerdict.Pass)]
    public void Each_write_gets_the_first_rule_it_breaks(bool source, bool? destination, bool client, string? token, bool held, DavWriteVerdict expected) =>
        Assert.Equal(expected, WebDavRules.Decide(source, destination, client, token, held));

    [Theory]
    [InlineData(DavWriteVerdict.NoToken, 403, "Write access to end-to-end encrypted folder requires token - no token sent")]
    [InlineData(DavWriteVerdict.NotLocked, 423, "Write access to end-to-end encrypted folder requires token - resource not locked or wrong token sent")]
    [InlineData(DavWriteVerdict.ClientNotAllowed, 403, "Client \"curl/8\" is not allowed to access end-to-end encrypted content")]
    public void Refusals_carry_the_references_status_and_text(DavWriteVerdict verdict, int status, string message)
    {
        var (actualStatus, _, actualMessage) = WebDavRules.Refusal(verdict, "curl/8");
        Assert.Equal((status, message), (actualStatus, actualMessage));
    }

    [Fact]
    public void Every_refusal_is_audited_under_its_own_reason_and_a_pass_under_none()
    {
        var refusals = Enum.GetValues<DavWriteVerdict>().Where(v => v != DavWriteVerdict.Pass).ToList();
        Assert.Equal(refusals.Count, refusals.Select(WebDavRules.RefusalCode).Distinct().Count());
        Assert.All(refusals.Select(WebDavRules.RefusalCode), code => Assert.Matches("^[A-Z_]+$", code));
        Assert.Throws<ArgumentOutOfRangeException>(() => WebDavRules.RefusalCode(DavWriteVerdict.Pass));
    }

    [Theory]
    [InlineData("/remote.php/dav/files/alice/E/x.bin", "/remote.php/dav/files/alice/E/")]
    [InlineData("/remote.php/dav/files/alice/E/sub/", "/remote.php/dav/files/alice/E/")]
    [InlineData("/remote.php/dav/files/alice/E", null)] // a folder at the root: its parent is the user's home
    [InlineData("/remote.php/dav/files/alice/", null)]
    public void A_files_path_has_its_folder_unless_it_is_at_the_users_root(string path, string? parent) =>
        Assert.Equal(parent, WebDavRules.Parent(path));

    [Theory]
    [InlineData("PROPPATCH", true)]
    [InlineData("MOVE", true)]
    [InlineData("put", true)]
    [InlineData("PROPFIND", false)]
    [InlineData("GET", false)]
    [InlineData("LOCK", false)]
    public void PROPPATCH_is_a_write_too(string method, bool write) => Assert.Equal(write, WebDavRules.IsWrite(method));

    [Theory]
    [InlineData("/remote.php/dav/files/a/E/x.bin", ".e2e-to-save", "/remote.php/dav/files/a/E/x.bin.e2e-to-save")]
    [InlineData("/remote.php/dav/files/a/E/sub/", ".e2e-to-save", "/remote.php/dav/files/a/E/sub.e2e-to-save/")]
    [InlineData("/remote.php/dav/files/a/E/x.bin", ".e2e-to-delete", "/remote.php/dav/files/a/E/x.bin.e2e-to-delete")]
    public void Staged_names_keep_a_collections_slash(string path, string suffix, string staged) =>
        Assert.Equal(staged, WebDavRules.WithSuffix(path, suffix));

    [Theory]
    [InlineData("/E/x.bin.e2e-to-save", "/E/x.bin", false)]
    [InlineData("/E/sub.e2e-to-save/", "/E/sub/", false)]
    [InlineData("/E/x.bin.e2e-to-delete", "/E/x.bin", true)]
    [InlineData("/E/x.bin", null, false)]
    [InlineData("/E/x.e2e-to-saved", null, false)]
    public void A_staged_name_knows_its_final_one(string path, string? final, bool deleted)
    {
        Assert.Equal(final, WebDavRules.WithoutSuffix(path, out var isDeletion));
        Assert.Equal(deleted, isDeletion);
        Assert.Equal(final is not null, WebDavRules.HasReservedSuffix(path));
    }
}
