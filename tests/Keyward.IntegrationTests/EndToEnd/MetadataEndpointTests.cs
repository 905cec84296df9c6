using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keyward.IntegrationTests.Infrastructure;
using Keyward.Tests.Shared;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>Encrypted folders, metadata and locks through the gateway's OCS endpoints (reference §a.3–a.6, §b).</summary>
[Collection(SystemCollection.Name)]
public sealed class MetadataEndpointTests(KeywardSystem system)
{
    private static string NewUser(string name) => $"{name}-{Guid.NewGuid():N}"[..20];

    private E2eeFolders As(string user, string? tenant = null, string api = "v2") => new(OcsClient.For(system, user, tenant ?? TestTenants.TenantA, api: api));

    [Fact]
    public async Task The_v2_root_and_subfolder_vectors_go_in_under_a_lock_and_come_back_byte_for_byte_decrypting_and_verifying()
    {
        var root = Vectors.Load("e2ee-app-v2/root-folder-metadata.json");
        var sub = Vectors.Load("e2ee-app-v2/subfolder-metadata.json");
        var rootMetadata = root.GetProperty("metadataJson").GetRawText();
        var subMetadata = sub.GetProperty("metadataJson").GetRawText();
        var owner = As("admin", TestTenants.TenantB);
        // admin comes from a Nextcloud server: Keyward holds the certificate admin stored with PUT public-key, and
        // checks the vectors' signatures against it (issue #15).
        await owner.Ocs.ResetKeysAsync();
        var adminCertificate = JsonNode.Parse(rootMetadata)!["users"]!.AsArray().Single(u => u!["userId"]!.GetValue<string>() == "admin")!["certificate"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await owner.Ocs.PutAsync("public-key", new Dictionary<string, string> { ["publicKey"] = adminCertificate })).Status);
        var rootId = await owner.RegisterAsync();
        var subId = await owner.RegisterAsync(rootId);

        var token = await owner.LockedAsync(rootId, counter: 5);
        Assert.Equal(HttpStatusCode.OK, (await owner.CreateAsync(rootId, token, rootMetadata, root.GetProperty("signatureBase64").GetString())).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.CreateAsync(subId, token, subMetadata, sub.GetProperty("signatureBase64").GetString())).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync(rootId)).Status); // pending until unlock
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(rootId, token)).Status);

        foreach (var (id, vector, metadata) in new[] { (rootId, root, rootMetadata), (subId, sub, subMetadata) })
        {
            var read = await owner.GetAsync(id);
            var storedMetadata = read.Data.GetProperty("meta-data").GetString()!;
            Assert.Equal(metadata, storedMetadata);
            Assert.Equal(vector.GetProperty("signatureBase64").GetString(), read.Signature);
            VerifySignature(storedMetadata, read.Signature!, vector.GetProperty("signedContentBase64").GetString()!);
            var decrypted = Decrypt(storedMetadata, Convert.FromBase64String(root.GetProperty("derivedMetadataKeyBase64").GetString()!));
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(vector.GetProperty("expectedDecryptedMetadata").GetRawText()), JsonNode.Parse(decrypted)));
        }

        // The root's metadata key opens with admin's private key, as a client does it.
        var admin = Vectors.Load("e2ee-app-v2/private-keys.json").GetProperty("admin");
        using var adminKey = RSA.Create();
        adminKey.ImportFromPem(admin.GetProperty("decryptedPkcs8Pem").GetString());
        var wrapped = JsonNode.Parse(rootMetadata)!["users"]!.AsArray().Single(u => u!["userId"]!.GetValue<string>() == "admin")!["encryptedMetadataKey"]!.GetValue<string>();
        Assert.Equal(root.GetProperty("derivedMetadataKeyBase64").GetString(), Convert.ToBase64String(adminKey.Decrypt(Convert.FromBase64String(wrapped), RSAEncryptionPadding.OaepSHA256)));

        // alice is listed in the root's users: she reads both folders and may lock.
        var alice = As("alice", TestTenants.TenantB);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync(subId)).Status);
        var aliceToken = await alice.LockedAsync(subId, counter: 6);
        Assert.Equal(HttpStatusCode.OK, (await alice.UnlockAsync(subId, aliceToken)).Status);
        var mallory = As("mallory", TestTenants.TenantB);
        var refused = await mallory.GetAsync(rootId);
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("You are not allowed to access the metadata of this folder", refused.DataMessage);
    }

    [Fact]
    public async Task A_user_removed_from_users_can_no_longer_read_or_lock()
    {
        var ownerName = NewUser("owner");
        var bobName = NewUser("bob");
        var owner = As(ownerName);
        var bob = As(bobName);
        var id = await owner.RegisterAsync();
        await owner.CommitAsync(id, E2eeFolders.Metadata(ownerName, bobName), counter: 1);
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync(id)).Status);

        await owner.CommitAsync(id, E2eeFolders.Metadata(ownerName), counter: 2, create: false);

        Assert.Equal(HttpStatusCode.Forbidden, (await bob.GetAsync(id)).Status);
        var locked = await bob.LockAsync(id, 3);
        Assert.Equal(HttpStatusCode.Forbidden, locked.Status);
        Assert.Equal("You are not allowed to create the lock", locked.DataMessage);
    }

    [Fact]
    public async Task The_counter_must_grow_and_only_a_committed_lock_advances_it()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var id = await owner.RegisterAsync();
        await owner.CommitAsync(id, E2eeFolders.Metadata(user), counter: 3);

        var same = await owner.LockAsync(id, 3);
        Assert.Equal(HttpStatusCode.PreconditionFailed, same.Status);
        Assert.Equal("The provided counter is smaller than the current counter.", same.DataMessage);

        // A lock released without writing metadata does not advance the counter.
        var token = await owner.LockedAsync(id, 10);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(id, token)).Status);
        var again = await owner.LockedAsync(id, 4);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(id, again)).Status);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0")]
    [InlineData("abc")]
    public async Task A_lock_without_a_valid_counter_is_400(string? counter)
    {
        var user = NewUser("owner");
        var owner = As(user);
        var id = await owner.RegisterAsync();
        var headers = counter is null ? null : new Dictionary<string, string> { ["X-NC-E2EE-COUNTER"] = counter };

        var refused = await owner.Ocs.SendAsync(HttpMethod.Post, $"lock/{id}", headers: headers);

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("X-NC-E2EE-COUNTER is missing in the request", refused.DataMessage);
    }

    [Fact]
    public async Task A_lock_covers_the_subtree_and_the_same_token_extends_it()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var root = await owner.RegisterAsync();
        var sub = await owner.RegisterAsync(root);
        var token = await owner.LockedAsync(root, 1);

        var other = await owner.LockAsync(sub, 1);
        Assert.Equal(HttpStatusCode.Locked, other.Status);
        Assert.Equal("File already locked", other.DataMessage);
        Assert.Equal(token, await owner.LockedAsync(root, 1, token));
        Assert.Equal(token, await owner.LockedAsync(sub, 1, token));

        // Unlocking the root commits and leaves the sub-folder's own lock row, as the reference does.
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(root, token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(sub, token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(root, await owner.LockedAsync(root, 1))).Status);
    }

    [Fact]
    public async Task A_lock_below_a_foreign_lock_and_above_one_are_both_refused()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var root = await owner.RegisterAsync();
        var sub = await owner.RegisterAsync(root);
        var token = await owner.LockedAsync(sub, 1);

        Assert.Equal(HttpStatusCode.Locked, (await owner.LockAsync(root, 1)).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(sub, token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(root, await owner.LockedAsync(root, 1))).Status);
    }

    [Fact]
    public async Task Every_metadata_write_case_of_the_reference()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var id = await owner.RegisterAsync();
        var metadata = E2eeFolders.Metadata(user);

        Assert.Equal("e2e-token is empty", (await owner.CreateAsync(id, null, metadata)).DataMessage);
        var token = await owner.LockedAsync(id, 1);
        var noSignature = await owner.CreateAsync(id, token, metadata, signature: null);
        Assert.Equal(HttpStatusCode.BadRequest, noSignature.Status);
        Assert.Equal("x-nc-e2ee-signature is empty", noSignature.DataMessage);
        var wrongToken = await owner.CreateAsync(id, "not-the-token", metadata);
        Assert.Equal(HttpStatusCode.Forbidden, wrongToken.Status);
        Assert.Equal("You are not allowed to set the metadata on this folder", wrongToken.DataMessage);
        var updateFirst = await owner.UpdateAsync(id, token, metadata);
        Assert.Equal(HttpStatusCode.NotFound, updateFirst.Status);
        Assert.Equal("Metadata-file does not exist", updateFirst.MetaMessage);
        var notJson = await owner.CreateAsync(id, token, "not json");
        Assert.Equal(HttpStatusCode.BadRequest, notJson.Status);
        Assert.Equal("Cannot store metadata", notJson.MetaMessage);
        var created = await owner.CreateAsync(id, token, metadata);
        Assert.Equal(metadata, created.Data.GetProperty("meta-data").GetString());
        var twice = await owner.CreateAsync(id, token, metadata);
        Assert.Equal(HttpStatusCode.Conflict, twice.Status);
        Assert.True(twice.DataIsEmptyArray);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(id, token)).Status);

        var notLocked = await owner.UpdateAsync(id, token, metadata);
        Assert.Equal(HttpStatusCode.PreconditionFailed, notLocked.Status);
        Assert.Equal("Folder is not locked", notLocked.DataMessage);
        var deleteNotLocked = await owner.DeleteMetadataAsync(id, token);
        Assert.Equal(HttpStatusCode.PreconditionFailed, deleteNotLocked.Status);
        Assert.Equal("Metadata is not locked", deleteNotLocked.DataMessage);
        Assert.Equal("e2e-token is empty", (await owner.DeleteMetadataAsync(id, null)).DataMessage);
        var unknown = await owner.GetAsync(E2eeFolders.NewFolderId());
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.StartsWith("Could not find metadata for \"", unknown.MetaMessage);
    }

    [Fact]
    public async Task A_pending_delete_removes_the_metadata_at_unlock()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var id = await owner.RegisterAsync();
        await owner.CommitAsync(id, E2eeFolders.Metadata(user), counter: 1);

        var token = await owner.LockedAsync(id, 2);
        Assert.Equal(HttpStatusCode.OK, (await owner.DeleteMetadataAsync(id, token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(id)).Status); // still committed while locked
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(id, token)).Status);

        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync(id)).Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Unlock_with_abort_drops_pending_changes_and_the_counter(bool abortInJsonBody)
    {
        var user = NewUser("owner");
        var owner = As(user);
        var id = await owner.RegisterAsync();
        var original = E2eeFolders.Metadata(user);
        await owner.CommitAsync(id, original, counter: 1);

        var token = await owner.LockedAsync(id, 2);
        Assert.Equal(HttpStatusCode.OK, (await owner.UpdateAsync(id, token, E2eeFolders.Metadata(user, "someone"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(id, token, abort: true, abortInJsonBody)).Status);

        Assert.Equal(original, (await owner.GetAsync(id)).Data.GetProperty("meta-data").GetString());
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(id, await owner.LockedAsync(id, 2))).Status);
    }

    [Fact]
    public async Task Every_unlock_case_of_the_reference()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var root = await owner.RegisterAsync();
        var sub = await owner.RegisterAsync(root);
        var token = await owner.LockedAsync(root, 1);

        var noToken = await owner.UnlockAsync(root, null);
        Assert.Equal(HttpStatusCode.BadRequest, noToken.Status);
        Assert.Equal("e2e-token is empty", noToken.DataMessage);
        var wrong = await owner.UnlockAsync(root, "wrong");
        Assert.Equal(HttpStatusCode.Forbidden, wrong.Status);
        Assert.Equal("You are not allowed to remove the lock", wrong.DataMessage);
        var viaAncestor = await owner.UnlockAsync(sub, token);
        Assert.Equal(HttpStatusCode.NotFound, viaAncestor.Status);
        Assert.Equal("File not locked", viaAncestor.DataMessage);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(root, token)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.UnlockAsync(root, token)).Status);
    }

    [Fact]
    public async Task Two_clients_racing_for_one_lock_have_exactly_one_winner_every_time()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var laptop = As(user);
        for (var trial = 0; trial < 25; trial++)
        {
            var id = await owner.RegisterAsync();
            var replies = await Task.WhenAll(owner.LockAsync(id, 1), laptop.LockAsync(id, 1));

            Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
            Assert.Single(replies, r => r.Status == HttpStatusCode.Locked);
        }
    }

    [Fact]
    public async Task Filedrop_entries_are_merged_into_the_committed_metadata_keeping_its_signature()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var id = await owner.RegisterAsync();
        await owner.CommitAsync(id, E2eeFolders.Metadata(user), counter: 1);
        var signed = (await owner.GetAsync(id)).Signature;
        var entry = "{\"4a8f6e0c2b1d4e3f9a7b5c6d8e9f0a1b\":{\"ciphertext\":\"Q1Q=\",\"nonce\":\"Tg==\",\"authenticationTag\":\"VA==\",\"users\":[{\"userId\":\"" + user + "\",\"encryptedFiledropKey\":\"Sw==\"}]}}";

        var dropped = await owner.Ocs.PutAsync($"meta-data/{id}/filedrop", new Dictionary<string, string> { ["filedrop"] = entry });

        Assert.Equal(HttpStatusCode.OK, dropped.Status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(entry), JsonNode.Parse(dropped.Data.GetProperty("filedrop").GetRawText())));
        var read = await owner.GetAsync(id);
        Assert.Equal(signed, read.Signature);
        var merged = JsonNode.Parse(read.Data.GetProperty("meta-data").GetString()!)!;
        Assert.NotNull(merged["filedrop"]!["4a8f6e0c2b1d4e3f9a7b5c6d8e9f0a1b"]);
        Assert.Equal("2.0", merged["version"]!.GetValue<string>());
    }

    [Fact]
    public async Task Filedrop_is_412_while_a_client_holds_a_lock_and_404_without_metadata()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var empty = await owner.RegisterAsync();
        var entry = new Dictionary<string, string> { ["filedrop"] = "{\"abc\":{}}" };
        var missing = await owner.Ocs.PutAsync($"meta-data/{empty}/filedrop", entry);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal("Metadata-file does not exist", missing.MetaMessage);

        await owner.CommitAsync(empty, E2eeFolders.Metadata(user), counter: 1);
        var token = await owner.LockedAsync(empty, 2);
        var locked = await owner.Ocs.PutAsync($"meta-data/{empty}/filedrop", entry);
        Assert.Equal(HttpStatusCode.PreconditionFailed, locked.Status);
        Assert.Equal("File already locked", locked.MetaMessage);
        var invalid = await owner.Ocs.PutAsync($"meta-data/{empty}/filedrop", new Dictionary<string, string> { ["filedrop"] = "[1,2]" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
        Assert.Equal("Cannot update filedrop", invalid.MetaMessage);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(empty, token)).Status);
    }

    [Fact]
    public async Task Every_committed_version_is_kept_and_readable_by_the_owner_and_members_but_not_by_an_admin()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var id = await owner.RegisterAsync();
        var first = E2eeFolders.Metadata(user);
        await owner.CommitAsync(id, first, counter: 1);
        var friend = NewUser("friend");
        await owner.CommitAsync(id, E2eeFolders.Metadata(user, friend), counter: 2, create: false);
        using var ownerRest = system.Http(system.Gateway, system.Tenants.Token(user, tenant: TestTenants.TenantA));
        using var memberRest = system.Http(system.Gateway, system.Tenants.Token(friend, tenant: TestTenants.TenantA));
        using var adminRest = system.Http(system.Gateway, system.Tenants.Token("root-admin", "user,admin", TestTenants.TenantA));
        using var strangerRest = system.Http(system.Gateway, system.Tenants.Token("stranger", tenant: TestTenants.TenantA));

        var list = await ownerRest.GetFromJsonAsync<JsonElement>($"/v1/folders/{id}/versions");
        var versions = list.GetProperty("versions").EnumerateArray().ToList();
        Assert.Equal([2, 1], versions.Select(v => v.GetProperty("number").GetInt32()));
        Assert.Equal(2, versions[0].GetProperty("counter").GetInt64());
        Assert.Equal(user, versions[1].GetProperty("committedBy").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(first))), versions[1].GetProperty("sha256").GetString());
        var one = await memberRest.GetFromJsonAsync<JsonElement>($"/v1/folders/{id}/versions/1");
        Assert.Equal(first, one.GetProperty("metadata").GetString());
        // Adversary (b): a tenant admin is no member of the tree.
        using var adminRefused = await adminRest.GetAsync($"/v1/folders/{id}/versions/1");
        Assert.Equal(HttpStatusCode.Forbidden, adminRefused.StatusCode);
        using var refused = await strangerRest.GetAsync($"/v1/folders/{id}/versions");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("ACCESS_DENIED", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await ownerRest.GetAsync($"/v1/folders/{id}/versions/9")).StatusCode);
    }

    [Fact]
    public async Task The_file_layer_can_ask_whether_a_token_holds_a_lock_on_a_folder_or_an_ancestor()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var root = await owner.RegisterAsync();
        var sub = await owner.RegisterAsync(root);
        var token = await owner.LockedAsync(root, 1);
        using var rest = system.Http(system.Gateway, system.Tenants.Token(user, tenant: TestTenants.TenantA));

        async Task<bool> Held(string id, string candidate) =>
            (await rest.GetFromJsonAsync<JsonElement>($"/v1/folders/{id}/lock-check?token={candidate}")).TryGetProperty("held", out var held) && held.GetBoolean();

        Assert.True(await Held(sub, token));
        Assert.False(await Held(sub, "another-token"));
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(root, token)).Status);
        Assert.False(await Held(sub, token));
    }

    [Fact]
    public async Task Encryption_flag_cases_of_the_reference()
    {
        var user = NewUser("owner");
        var owner = As(user);
        var root = await owner.RegisterAsync();
        Assert.Equal(HttpStatusCode.OK, (await owner.RegisterAsync(root, null)).Status); // again: idempotent
        var sub = await owner.RegisterAsync(root);

        var notEmpty = await owner.UnregisterAsync(root);
        Assert.Equal(HttpStatusCode.NotFound, notEmpty.Status);
        Assert.Equal($"Folder with ID {root} not empty", notEmpty.MetaMessage);
        var unknownParent = await owner.RegisterAsync(E2eeFolders.NewFolderId(), E2eeFolders.NewFolderId());
        Assert.Equal(HttpStatusCode.NotFound, unknownParent.Status);
        Assert.Equal("Folder not found", unknownParent.DataMessage);
        var stranger = await As(NewUser("stranger")).RegisterAsync(root, null);
        Assert.Equal(HttpStatusCode.Forbidden, stranger.Status);
        Assert.Equal("You are not allowed to set the encryption flag on this folder", stranger.DataMessage);

        Assert.Equal(HttpStatusCode.OK, (await owner.UnregisterAsync(sub)).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnregisterAsync(root)).Status);
        var gone = await owner.UnregisterAsync(root);
        Assert.Equal($"No folder with ID {root}", gone.MetaMessage);
    }

    [Fact]
    public async Task API_v1_serves_metadata_1_x_and_refuses_2_x()
    {
        var user = NewUser("owner");
        var v1 = As(user, api: "v1");
        var v2 = As(user);
        var legacy = "{\"metadata\":{\"metadataKey\":\"S0VZ\",\"version\":1.2,\"checksum\":\"abc\"},\"files\":{}}";

        var id = await v2.RegisterAsync();
        Assert.Equal(HttpStatusCode.OK, (await v1.Ocs.PostAsync($"meta-data/{id}", new Dictionary<string, string> { ["metaData"] = legacy })).Status);
        Assert.Equal(legacy, (await v1.GetAsync(id)).Data.GetProperty("meta-data").GetString());
        var withoutLock = await v1.Ocs.PutAsync($"meta-data/{id}", new Dictionary<string, string> { ["metaData"] = legacy });
        Assert.Equal(HttpStatusCode.Forbidden, withoutLock.Status);
        Assert.Equal("You are not allowed to edit the file, make sure to first lock it, and then send the right token", withoutLock.MetaMessage);
        var token = (await v1.LockAsync(id, counter: null)).Data.GetProperty("e2e-token").GetString()!;
        Assert.Equal(HttpStatusCode.Forbidden, (await v1.LockAsync(id, counter: null)).Status);
        var updated = legacy.Replace("abc", "def");
        Assert.Equal(HttpStatusCode.OK, (await v1.Ocs.PutAsync($"meta-data/{id}", new Dictionary<string, string> { ["metaData"] = updated, ["e2e-token"] = token })).Status);
        Assert.Equal(HttpStatusCode.OK, (await v1.UnlockAsync(id, token)).Status);
        Assert.Equal(updated, (await v1.GetAsync(id)).Data.GetProperty("meta-data").GetString());

        var modern = await v2.RegisterAsync();
        await v2.CommitAsync(modern, E2eeFolders.Metadata(user), counter: 1);
        var refused = await v1.GetAsync(modern);
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("Client version cannot handle the requested encryption version.", refused.MetaMessage);
        Assert.Equal("Client version cannot handle the requested encryption version.", (await v1.LockAsync(modern, null)).MetaMessage);
    }

    [Fact]
    public async Task Metadata_changes_leave_their_audit_events_in_the_chain()
    {
        var user = NewUser("audited");
        var owner = As(user);
        var id = await owner.RegisterAsync();
        await owner.CommitAsync(id, E2eeFolders.Metadata(user), counter: 1);

        var events = (await AuditTrailClient.For(system, TestTenants.TenantA).WaitForAsync($"targetId={id}", 5)).Select(e => e.GetRawText()).ToList();
        foreach (var action in new[] { "metadata.folder.encrypted", "metadata.lock.acquired", "metadata.metadata.created", "metadata.metadata.committed", "metadata.lock.released" })
        {
            Assert.Contains(events, e => e.Contains($"\"{action}\""));
        }

        Assert.DoesNotContain(events, e => e.Contains("Q0lQSEVS")); // the ciphertext never reaches the audit trail
    }

    /// <summary>The client's check (reference §e): the signed bytes are the Base64 of the sorted compact JSON without filedrop.</summary>
    private static void VerifySignature(string metadata, string signatureBase64, string expectedSignedContent)
    {
        var node = JsonNode.Parse(metadata)!.AsObject();
        node.Remove("filedrop");
        var compact = Sorted(node)!.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var signedContent = Convert.ToBase64String(Encoding.UTF8.GetBytes(compact));
        Assert.Equal(expectedSignedContent, signedContent);
        var cms = new SignedCms(new ContentInfo(Encoding.ASCII.GetBytes(signedContent)), detached: true);
        cms.Decode(Convert.FromBase64String(signatureBase64));
        cms.CheckSignature(verifySignatureOnly: true);
    }

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };

    /// <summary>Base64 → AES-128-GCM (any nonce length, hence BouncyCastle) → gunzip (reference §e.2).</summary>
    private static string Decrypt(string metadata, byte[] key)
    {
        var inner = JsonNode.Parse(metadata)!["metadata"]!;
        var cipherAndTag = Convert.FromBase64String(inner["ciphertext"]!.GetValue<string>().Split('|')[0]);
        var nonce = Convert.FromBase64String(inner["nonce"]!.GetValue<string>());
        var gcm = new GcmBlockCipher(new AesEngine());
        gcm.Init(false, new AeadParameters(new KeyParameter(key), 128, nonce));
        var plain = new byte[gcm.GetOutputSize(cipherAndTag.Length)];
        var length = gcm.ProcessBytes(cipherAndTag, 0, cipherAndTag.Length, plain, 0);
        length += gcm.DoFinal(plain, length);
        using var gzip = new GZipStream(new MemoryStream(plain, 0, length), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
