using System.Net;
using System.Net.Http.Headers;
using Keyward.IntegrationTests.Infrastructure;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>
/// The WebDAV write rules at the front door (reference §1.3), played by the adversaries of an encrypted folder: a client
/// writing without the folder's lock, with a made-up token, a collaborator's stale token, an unsupported client, a move
/// that launders files out (with the <c>X-Nc-Sabre-Original-Method</c> bypass the reference leaves open), and a chunked
/// upload assembled into the folder. Each gets the reference's status and text, and nothing reaches the instance.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class FrontDoorWebDavTests(KeywardSystem system)
{

    [Fact]
    public async Task Writes_into_an_encrypted_folder_need_its_locks_token_and_nothing_else_gets_through()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-dav");
        var user = door.Users[0];
        var (http, files, folders, id) = await EncryptedFolderAsync(door, user);
        using var client = http;
        Assert.Equal(HttpStatusCode.Created, (await http.SendAsync(new HttpRequestMessage(new HttpMethod("MKCOL"), $"{files}/Plain"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Put(http, $"{files}/Plain/outside.bin", null)).StatusCode);

        var noToken = await Put(http, $"{files}/Encrypted/a.bin", null);
        var madeUp = await Put(http, $"{files}/Encrypted/a.bin", "not-the-lock-token");
        var token = await folders.LockedAsync(id, 1);
        using var unsupported = door.Client(user);
        unsupported.DefaultRequestHeaders.UserAgent.ParseAdd("curl/8.5.0");
        var wrongClient = await Put(unsupported, $"{files}/Encrypted/a.bin", token);
        var withToken = await Put(http, $"{files}/Encrypted/a.bin", token);
        var tokenInQuery = await Put(http, $"{files}/Encrypted/b.bin?e2e-token={token}", null);
        var mkcolNoToken = await http.SendAsync(new HttpRequestMessage(new HttpMethod("MKCOL"), $"{files}/Encrypted/sub"));
        var deleteNoToken = await http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"{files}/Encrypted/a.bin"));
        var proppatchNoToken = await http.SendAsync(new HttpRequestMessage(new HttpMethod("PROPPATCH"), $"{files}/Encrypted/a.bin"));
        var launder = new HttpRequestMessage(new HttpMethod("MOVE"), $"{files}/Encrypted/a.bin") { Headers = { { "Destination", $"{door.Address}{files.TrimStart('/')}/Plain/a.bin" }, { "e2e-token", token }, { "X-Nc-Sabre-Original-Method", "DELETE" } } };
        var laundered = await http.SendAsync(launder);
        var smuggle = await http.SendAsync(new HttpRequestMessage(new HttpMethod("COPY"), $"{files}/Plain/outside.bin") { Headers = { { "Destination", $"{door.Address}{files.TrimStart('/')}/Encrypted/outside.bin" }, { "e2e-token", token } } });
        var chunked = await http.SendAsync(new HttpRequestMessage(new HttpMethod("MOVE"), $"/remote.php/dav/uploads/{user.Id}/upload-1/.file") { Headers = { { "Destination", $"{door.Address}{files.TrimStart('/')}/Encrypted/big.bin" } } });
        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token)).Status);
        var afterUnlock = await Put(http, $"{files}/Encrypted/c.bin", token);
        var plainWrite = await Put(http, $"{files}/Plain/free.bin", null);

        await AssertRefusedAsync(noToken, 403, "Write access to end-to-end encrypted folder requires token - no token sent");
        await AssertRefusedAsync(madeUp, 423, "Write access to end-to-end encrypted folder requires token - resource not locked or wrong token sent");
        await AssertRefusedAsync(wrongClient, 403, "Client \"curl/8.5.0\" is not allowed to access end-to-end encrypted content");
        Assert.Equal(HttpStatusCode.Created, withToken.StatusCode);
        Assert.Equal(HttpStatusCode.Created, tokenInQuery.StatusCode);
        await AssertRefusedAsync(mkcolNoToken, 403, "Write access to end-to-end encrypted folder requires token - no token sent");
        await AssertRefusedAsync(deleteNoToken, 403, "Write access to end-to-end encrypted folder requires token - no token sent");
        await AssertRefusedAsync(proppatchNoToken, 403, "Write access to end-to-end encrypted folder requires token - no token sent");
        await AssertRefusedAsync(laundered, 403, "Cannot copy or move files from non-encrypted folders to end to end encrypted folders or vice versa.");
        await AssertRefusedAsync(smuggle, 403, "Cannot copy or move files from non-encrypted folders to end to end encrypted folders or vice versa.");
        await AssertRefusedAsync(chunked, 403, "Write access to end-to-end encrypted folder requires token - no token sent");
        await AssertRefusedAsync(afterUnlock, 423, "Write access to end-to-end encrypted folder requires token - resource not locked or wrong token sent");
        Assert.Equal(HttpStatusCode.Created, plainWrite.StatusCode);

        // What the instance holds: the two writes made under the lock, and nothing the refused ones tried.
        Assert.Equal(["a.bin", "b.bin"], await ListAsync(http, $"{files}/Encrypted/"));
        Assert.Equal(["free.bin", "outside.bin"], await ListAsync(http, $"{files}/Plain/"));

        // Every refusal is in the tenant's trail: who, which folder, why; never the path (it holds names).
        var refusals = await AuditTrailClient.For(system, TestTenants.TenantF).WaitForAsync($"actionPrefix=webdav.write.refused&targetType=folder&targetId={id}", 10);
        Assert.Equal(10, refusals.Count);
        Assert.All(refusals, r => Assert.Equal(user.Id, r.GetProperty("actor").GetString()));
        Assert.Equal(["CLIENT_NOT_ALLOWED", "LOCK_NOT_HELD", "LOCK_NOT_HELD", "LOCK_TOKEN_MISSING", "LOCK_TOKEN_MISSING", "LOCK_TOKEN_MISSING", "LOCK_TOKEN_MISSING", "LOCK_TOKEN_MISSING", "MIXED_MOVE", "MIXED_MOVE"],
            refusals.Select(r => r.GetProperty("reason").GetString()).Order(StringComparer.Ordinal));
        Assert.All(refusals, r => Assert.DoesNotContain(".bin", r.GetRawText(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task PROPFIND_carries_the_E2EE_properties_from_Keyward_and_turns_unsupported_clients_away_from_encrypted_folders()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-propfind");
        var user = door.Users[0];
        var (http, files, folders, id) = await EncryptedFolderAsync(door, user);
        using var client = http;
        var metadata = E2eeFolders.Metadata(user.Id);
        await folders.CommitAsync(id, metadata, counter: 1);
        var token = await folders.LockedAsync(id, 2);
        Assert.Equal(HttpStatusCode.Created, (await Put(http, $"{files}/Encrypted/f.bin", token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token)).Status);
        Assert.Equal(HttpStatusCode.Created, (await http.SendAsync(new HttpRequestMessage(new HttpMethod("MKCOL"), $"{files}/Plain"))).StatusCode);
        const string Asked = """<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns"><d:prop><d:getetag/><oc:permissions/><nc:is-encrypted/><nc:e2ee-is-encrypted/><nc:e2ee-metadata/><nc:e2ee-metadata-signature/></d:prop></d:propfind>""";

        var listing = await PropFindAsync(http, $"{files}/Encrypted/", "1", Asked);
        var plain = await PropFindAsync(http, $"{files}/Plain/", "0", Asked);
        var single = await PropFindAsync(http, $"{files}/Encrypted/f.bin", "0", Asked);
        using var unsupported = door.Client(user);
        unsupported.DefaultRequestHeaders.UserAgent.ParseAdd("curl/8.5.0");
        using var refused = await unsupported.SendAsync(new HttpRequestMessage(new HttpMethod("PROPFIND"), $"{files}/Encrypted/") { Content = new StringContent(Asked), Headers = { { "Depth", "1" } } });
        var home = await PropFindAsync(unsupported, $"{files}/", "1", Asked);

        var folder = listing[$"{files}/Encrypted/"];
        Assert.Equal("1", folder.Ok["is-encrypted"]);
        Assert.Equal("1", folder.Ok["e2ee-is-encrypted"]);
        Assert.Equal(metadata, folder.Ok["e2ee-metadata"]);
        Assert.False(string.IsNullOrEmpty(folder.Ok["e2ee-metadata-signature"]));
        Assert.DoesNotContain("fileid", folder.Ok.Keys); // computed from, and not asked for
        var file = listing[$"{files}/Encrypted/f.bin"];
        Assert.Equal("1", file.Ok["e2ee-is-encrypted"]);
        Assert.Contains("is-encrypted", file.Missing); // as on the reference: a file has no own flag
        Assert.Contains("e2ee-metadata", file.Missing);
        Assert.Equal("1", single[$"{files}/Encrypted/f.bin"].Ok["e2ee-is-encrypted"]);
        Assert.Equal("0", plain[$"{files}/Plain/"].Ok["is-encrypted"]);
        Assert.Contains("e2ee-metadata", plain[$"{files}/Plain/"].Missing);
        await AssertRefusedAsync(refused, 403, "Client \"curl/8.5.0\" is not allowed to access end-to-end encrypted content");
        Assert.Equal("", home[$"{files}/Encrypted/"].Ok["permissions"]);
        Assert.Equal("RGDNVCK", home[$"{files}/Plain/"].Ok["permissions"]);
    }

    [Fact]
    public async Task Only_the_instances_owner_of_an_empty_folder_can_have_it_flagged_so_nobody_claims_a_folder_id_first()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-claims");
        var (alice, mallory) = (door.Users[0], door.Users[2]);
        using var aliceHttp = door.DesktopClient(alice);
        using var malloryHttp = door.DesktopClient(mallory);
        var aliceFolders = new E2eeFolders(new OcsClient(aliceHttp) { User = alice.Id, Tenant = TestTenants.TenantF });
        var malloryFolders = new E2eeFolders(new OcsClient(malloryHttp) { User = mallory.Id, Tenant = TestTenants.TenantF });
        var files = $"/remote.php/dav/files/{alice.Id}";
        async Task<string> MakeAsync(string method, string path, HttpContent? content = null)
        {
            using var made = await aliceHttp.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = content });
            Assert.True(made.IsSuccessStatusCode, $"{method} {path}: {(int)made.StatusCode}");
            return FileIdOf(made);
        }

        var empty = await MakeAsync("MKCOL", $"{files}/Secret");
        var full = await MakeAsync("MKCOL", $"{files}/Full");
        var file = await MakeAsync("PUT", $"{files}/Full/notes.txt", new StringContent("plain"));

        var squatted = await malloryFolders.RegisterAsync(empty, null);
        var notEmpty = await aliceFolders.RegisterAsync(full, null);
        var notAFolder = await aliceFolders.RegisterAsync(file, null);
        var madeUp = await aliceFolders.RegisterAsync("99999999", null);
        var hers = await aliceFolders.RegisterAsync(empty, null);

        foreach (var refused in new[] { squatted, notEmpty, notAFolder, madeUp })
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.Status);
            Assert.Equal("Folder not found", refused.Data.GetProperty("message").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, hers.Status);
        // The folder is Alice's in Keyward too: Mallory cannot lock it.
        Assert.NotEqual(HttpStatusCode.OK, (await malloryFolders.LockAsync(empty, 1)).Status);
    }

    [Fact]
    public async Task Writes_under_the_lock_are_staged_invisible_until_unlock_and_undone_by_abort()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-staging");
        var user = door.Users[0];
        var (http, files, folders, id) = await EncryptedFolderAsync(door, user);
        using var client = http;
        using var instance = door.InstanceClient(user);
        const string Listing = """<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>""";
        async Task<List<string>> SeenAsync(HttpClient client) => (await PropFindAsync(client, $"{files}/Encrypted/", "1", Listing)).Keys
            .Where(k => !k.EndsWith('/')).Select(k => k[(k.LastIndexOf('/') + 1)..]).Order(StringComparer.Ordinal).ToList();

        // Commit: the saved file appears only at unlock.
        var token = await folders.LockedAsync(id, 1);
        Assert.Equal(HttpStatusCode.Created, (await Put(http, $"{files}/Encrypted/x.bin", token)).StatusCode);
        await AssertRefusedAsync(await Put(http, $"{files}/Encrypted/y.bin.e2e-to-save", token), 403, "Not allowed to create file with reserved suffix!");
        var whileLocked = (Gateway: await SeenAsync(http), Instance: await SeenAsync(instance));
        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token)).Status);
        var committed = (Gateway: await SeenAsync(http), Instance: await SeenAsync(instance));

        // Abort: a deletion is undone, a new file dropped.
        token = await folders.LockedAsync(id, 2);
        using var deleted = await http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"{files}/Encrypted/x.bin") { Headers = { { "e2e-token", token } } });
        Assert.Equal(HttpStatusCode.Created, (await Put(http, $"{files}/Encrypted/z.bin", token)).StatusCode);
        var beforeAbort = (Gateway: await SeenAsync(http), Instance: await SeenAsync(instance));
        // Until unlock a deleted file is still read from its staged name; the saved one is not there yet; and an allprop
        // listing hides and shows the same, and is refused to a client that may not see encrypted content.
        using var stillThere = await http.GetAsync($"{files}/Encrypted/x.bin");
        using var notYet = await http.GetAsync($"{files}/Encrypted/z.bin");
        using var atInstance = await instance.GetAsync($"{files}/Encrypted/x.bin");
        var allprop = await ListAsync(http, $"{files}/Encrypted/");
        using var unsupported = door.Client(user);
        unsupported.DefaultRequestHeaders.UserAgent.ParseAdd("curl/8.5.0");
        using var allpropRefused = await unsupported.SendAsync(new HttpRequestMessage(new HttpMethod("PROPFIND"), $"{files}/Encrypted/") { Headers = { { "Depth", "1" } } });
        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token, abort: true)).Status);
        var aborted = await SeenAsync(instance);

        // Commit of a deletion: gone for good.
        token = await folders.LockedAsync(id, 3);
        using var deletedForGood = await http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"{files}/Encrypted/x.bin") { Headers = { { "e2e-token", token } } });
        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token)).Status);
        var afterDelete = await SeenAsync(instance);

        Assert.Empty(whileLocked.Gateway);
        Assert.Equal(["x.bin.e2e-to-save"], whileLocked.Instance);
        Assert.Equal(["x.bin"], committed.Gateway);
        Assert.Equal(["x.bin"], committed.Instance);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(["x.bin"], beforeAbort.Gateway); // a staged deletion still shows under its own name
        Assert.Equal(["x.bin.e2e-to-delete", "z.bin.e2e-to-save"], beforeAbort.Instance);
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
        Assert.Equal("ciphertext", await stillThere.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, notYet.StatusCode);
        Assert.DoesNotContain(".e2e-to-", await notYet.Content.ReadAsStringAsync(), StringComparison.Ordinal); // the instance's 404 for the name asked
        Assert.Equal(HttpStatusCode.NotFound, atInstance.StatusCode);
        Assert.Equal(["x.bin"], allprop);
        await AssertRefusedAsync(allpropRefused, 403, "Client \"curl/8.5.0\" is not allowed to access end-to-end encrypted content");
        Assert.Equal(["x.bin"], aborted);
        Assert.Equal(HttpStatusCode.NoContent, deletedForGood.StatusCode);
        Assert.Empty(afterDelete);
    }

    [Fact]
    public async Task A_deleted_encrypted_root_stays_listed_under_its_name_until_unlock_comes_back_on_abort_and_goes_on_commit()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-root-delete");
        var user = door.Users[0];
        var (http, files, folders, id) = await EncryptedFolderAsync(door, user);
        using var client = http;
        using var instance = door.InstanceClient(user);
        const string Asked = """<d:propfind xmlns:d="DAV:" xmlns:nc="http://nextcloud.org/ns"><d:prop><d:getetag/><nc:is-encrypted/></d:prop></d:propfind>""";
        async Task<List<string>> HomeAsync(HttpClient client) => (await PropFindAsync(client, $"{files}/", "1", Asked)).Keys
            .Where(k => k != $"{files}/").Select(k => k[(files.Length + 1)..].TrimEnd('/')).Order(StringComparer.Ordinal).ToList();
        async Task<HttpResponseMessage> DeleteRootAsync(string token) =>
            await http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"{files}/Encrypted") { Headers = { { "e2e-token", token } } });

        var token = await folders.LockedAsync(id, 1);
        Assert.Equal(HttpStatusCode.Created, (await Put(http, $"{files}/Encrypted/kept.bin", token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token)).Status);

        token = await folders.LockedAsync(id, 2);
        using var deleted = await DeleteRootAsync(token);
        var whileLocked = (Gateway: await HomeAsync(http), Instance: await HomeAsync(instance));
        var flag = (await PropFindAsync(http, $"{files}/", "1", Asked))[$"{files}/Encrypted/"].Ok["is-encrypted"];
        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token, abort: true)).Status);
        var aborted = (Home: await HomeAsync(instance), Inside: await ListAsync(instance, $"{files}/Encrypted/"));

        token = await folders.LockedAsync(id, 3);
        using var deletedForGood = await DeleteRootAsync(token);
        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token)).Status);
        var committed = await HomeAsync(instance);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(["Encrypted"], whileLocked.Gateway);
        Assert.Equal(["Encrypted.e2e-to-delete"], whileLocked.Instance);
        Assert.Equal("1", flag); // it keeps its own flag under its own name
        Assert.Equal(["Encrypted"], aborted.Home);
        Assert.Equal(["kept.bin"], aborted.Inside);
        Assert.Equal(HttpStatusCode.NoContent, deletedForGood.StatusCode);
        Assert.Empty(committed);
    }

    private sealed record Properties(Dictionary<string, string> Ok, HashSet<string> Missing);

    private static async Task<Dictionary<string, Properties>> PropFindAsync(HttpClient http, string path, string depth, string body)
    {
        using var request = new HttpRequestMessage(new HttpMethod("PROPFIND"), path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/xml"), Headers = { { "Depth", depth } } };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 207, text);
        System.Xml.Linq.XNamespace dav = "DAV:";
        return System.Xml.Linq.XDocument.Parse(text).Root!.Elements(dav + "response").ToDictionary(r => Uri.UnescapeDataString(r.Element(dav + "href")!.Value), r =>
        {
            var ok = new Dictionary<string, string>();
            var missing = new HashSet<string>();
            foreach (var propstat in r.Elements(dav + "propstat"))
            {
                var found = propstat.Element(dav + "status")!.Value.Contains(" 200 ", StringComparison.Ordinal);
                foreach (var property in propstat.Element(dav + "prop")!.Elements())
                {
                    if (found)
                    {
                        ok[property.Name.LocalName] = property.Value;
                    }
                    else
                    {
                        missing.Add(property.Name.LocalName);
                    }
                }
            }

            return new Properties(ok, missing);
        });
    }

    /// <summary>
    /// A desktop client of the user, and the folder <c>Encrypted</c> it made on the instance and had Keyward flag under the
    /// instance's own file id.
    /// </summary>
    private static async Task<(HttpClient Http, string Files, E2eeFolders Folders, string Id)> EncryptedFolderAsync(FrontDoorSetup door, StandInUser user)
    {
        var http = door.DesktopClient(user);
        var files = $"/remote.php/dav/files/{user.Id}";
        var folders = new E2eeFolders(new OcsClient(http) { User = user.Id, Tenant = TestTenants.TenantF });
        using var made = await http.SendAsync(new HttpRequestMessage(new HttpMethod("MKCOL"), $"{files}/Encrypted"));
        var id = FileIdOf(made);
        Assert.Equal(HttpStatusCode.OK, (await folders.RegisterAsync(id, null)).Status);
        return (http, files, folders, id);
    }

    /// <summary>The instance's file id of what a PUT or MKCOL made (OC-FileId: the id padded to 8 digits, then the instance id).</summary>
    private static string FileIdOf(HttpResponseMessage made) =>
        long.Parse(made.Headers.GetValues("OC-FileId").Single()[..8], System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static Task<HttpResponseMessage> Put(HttpClient http, string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = new ByteArrayContent("ciphertext"u8.ToArray()) };
        if (token is not null)
        {
            request.Headers.Add("e2e-token", token);
        }

        return http.SendAsync(request);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, int status, string message)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        var error = System.Xml.Linq.XDocument.Parse(body).Root!;
        Assert.Equal(message, error.Element((System.Xml.Linq.XNamespace)"http://sabredav.org/ns" + "message")!.Value);
    }

    private static async Task<List<string>> ListAsync(HttpClient http, string folder)
    {
        using var request = new HttpRequestMessage(new HttpMethod("PROPFIND"), folder) { Headers = { { "Depth", "1" } } };
        using var response = await http.SendAsync(request);
        var hrefs = System.Xml.Linq.XDocument.Parse(await response.Content.ReadAsStringAsync()).Descendants((System.Xml.Linq.XNamespace)"DAV:" + "href").Select(h => h.Value);
        return hrefs.Where(h => !h.EndsWith('/')).Select(h => h[(h.LastIndexOf('/') + 1)..]).Order(StringComparer.Ordinal).ToList();
    }
}
