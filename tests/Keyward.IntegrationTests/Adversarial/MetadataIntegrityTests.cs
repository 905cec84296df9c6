using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Keyward.Client;
using Keyward.IntegrationTests.Infrastructure;

namespace Keyward.IntegrationTests.Adversarial;

/// <summary>
/// Adversary (c), a collaborator — or a buggy client — writing a shared folder's metadata (issue #15): corrupt or
/// wrongly signed metadata is refused with 400 and its reason, audited, nothing is stored, and every other member
/// keeps reading the last good version.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class MetadataIntegrityTests(KeywardSystem system)
{
    private E2eeFolders As(string user) => new(OcsClient.For(system, user, TestTenants.TenantA));

    private static string NewUser(string role) => $"{role}-{Guid.NewGuid():N}"[..16];

    [Fact]
    public async Task Tampered_foreign_and_outsider_signatures_are_400_audited_and_the_folder_keeps_its_last_good_version()
    {
        var ownerId = NewUser("owner");
        var collaboratorId = NewUser("collab");
        var owner = As(ownerId);
        var collaborator = As(collaboratorId);
        var id = await owner.RegisterAsync();
        var good = E2eeFolders.Metadata(ownerId, collaboratorId);
        await owner.CommitAsync(id, good, counter: 1);
        var goodSignature = (await owner.GetAsync(id)).Signature!;

        // Each attempt by the collaborator, under a lock they hold.
        var bitFlipped = good.Replace("Q0lQSEVS", "Q0lQSEVT");
        var withoutThemselves = E2eeFolders.Metadata(ownerId, "someone-else");
        using var foreignKey = RSA.Create(2048);
        using var foreign = new CertificateRequest($"CN={collaboratorId}", foreignKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        var attempts = new (string What, string Metadata, Func<Task<string>> Signature)[]
        {
            ("the owner's signature over a bit-flipped ciphertext", bitFlipped, () => Task.FromResult(goodSignature)),
            ("signed by a user outside the folder's users", withoutThemselves, () => collaborator.SignAsync(withoutThemselves)),
            ("signed with a certificate from another CA", good, () => Task.FromResult(MetadataV2.Sign(good, foreignKey, foreign.ExportCertificatePem()))),
        };

        var counter = 2L;
        foreach (var (what, metadata, signature) in attempts)
        {
            var token = await collaborator.LockedAsync(id, counter++);
            var refused = await collaborator.UpdateAsync(id, token, metadata, await signature());
            Assert.True(refused.Status == HttpStatusCode.BadRequest, $"{what}: {refused.Text}");
            Assert.Equal("Invalid metadata signature", refused.MetaMessage);
            Assert.Equal(HttpStatusCode.OK, (await collaborator.UnlockAsync(id, token)).Status);

            var read = await owner.GetAsync(id);
            Assert.Equal(good, read.Data.GetProperty("meta-data").GetString());
            Assert.Equal(goodSignature, read.Signature);
        }

        var audited = await AuditTrailClient.For(system, TestTenants.TenantA).WaitForAsync($"actor={collaboratorId}&action=metadata.metadata.updated&outcome=denied", 3);
        Assert.All(audited, e => Assert.Equal("SIGNATURE_REJECTED", e.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task Malformed_and_oversized_metadata_are_400_with_their_reason_and_nothing_is_stored()
    {
        var ownerId = NewUser("owner");
        var owner = As(ownerId);
        var id = await owner.RegisterAsync();
        await owner.CommitAsync(id, E2eeFolders.Metadata(ownerId), counter: 1);
        var good = (await owner.GetAsync(id)).Data.GetProperty("meta-data").GetString();

        var noUsers = """{"metadata":{"ciphertext":"Q0lQSEVS","nonce":"Tk9OQ0U=","authenticationTag":"VEFH"},"version":"2.0"}""";
        var badNonce = E2eeFolders.Metadata(ownerId).Replace("Tk9OQ0U=", "not base64!");
        var filedrop = JsonNode.Parse(E2eeFolders.Metadata(ownerId))!.AsObject();
        var entries = new JsonObject();
        for (var i = 0; i <= 10_000; i++)
        {
            entries[$"{i:x32}"] = JsonNode.Parse($$"""{"ciphertext":"Yw==","nonce":"bg==","authenticationTag":"dA==","users":[{"userId":"{{ownerId}}","encryptedFiledropKey":"aw=="}]}""");
        }

        filedrop["filedrop"] = entries;
        var cases = new (string Metadata, string Reason)[]
        {
            (noUsers, "Invalid metadata: a root folder's metadata must list its users"),
            (badNonce, "Invalid metadata: metadata.nonce must be base64"),
            (filedrop.ToJsonString(), "Invalid metadata: a folder holds at most 10,000 filedrop entries"),
        };

        var counter = 2L;
        foreach (var (metadata, reason) in cases)
        {
            var token = await owner.LockedAsync(id, counter++);
            var refused = await owner.UpdateAsync(id, token, metadata);
            Assert.True(refused.Status == HttpStatusCode.BadRequest, refused.Text);
            Assert.Equal(reason, refused.MetaMessage);
            Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(id, token)).Status);
            Assert.Equal(good, (await owner.GetAsync(id)).Data.GetProperty("meta-data").GetString());
        }

        // 17 MiB: refused by the metadata service with its reason (the edge lets through a url-encoded form of up to three times the limit).
        var huge = JsonNode.Parse(E2eeFolders.Metadata(ownerId))!.AsObject();
        huge["padding"] = new string('x', 17 * 1024 * 1024);
        var lockToken = await owner.LockedAsync(id, counter);
        var tooLarge = await owner.UpdateAsync(id, lockToken, huge.ToJsonString(), "c2lnbmF0dXJl");
        Assert.True(tooLarge.Status == HttpStatusCode.BadRequest, tooLarge.Text);
        Assert.Equal("Invalid metadata: the metadata is larger than 16,777,216 bytes", tooLarge.MetaMessage);
        Assert.Equal(HttpStatusCode.OK, (await owner.UnlockAsync(id, lockToken)).Status);
        Assert.Equal(good, (await owner.GetAsync(id)).Data.GetProperty("meta-data").GetString());

        var audited = await AuditTrailClient.For(system, TestTenants.TenantA).WaitForAsync($"actor={ownerId}&action=metadata.metadata.updated&outcome=denied", 4);
        Assert.All(audited, e => Assert.Equal("METADATA_REFUSED", e.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task Reset_answers_the_deleted_ids_and_leaves_other_users_folders_alone_and_versions_page_over_rest()
    {
        var aliceId = NewUser("alice");
        var bobId = NewUser("bob");
        var alice = As(aliceId);
        var bob = As(bobId);
        var own = await alice.RegisterAsync();
        var sub = await alice.RegisterAsync(own);
        var bobs = await bob.RegisterAsync();
        await bob.CommitAsync(bobs, E2eeFolders.Metadata(bobId, aliceId), counter: 1);
        for (var counter = 1; counter <= 3; counter++)
        {
            await alice.CommitAsync(own, E2eeFolders.Metadata(aliceId), counter, create: counter == 1);
        }

        // Versions over REST, a page at a time; the owner restores one under a lock.
        var page = await alice.Ocs.Http.GetFromJsonAsync<JsonElement>($"/v1/folders/{own}/versions?pageSize=2");
        Assert.Equal([3, 2], page.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("number").GetInt32()));
        Assert.All(page.GetProperty("versions").EnumerateArray(), v => Assert.True(v.GetProperty("signatureVerified").GetBoolean()));
        Assert.Equal(2, page.GetProperty("nextBefore").GetInt32());
        var token = await alice.LockedAsync(own, 4);
        using (var restored = await alice.Ocs.Http.PostAsJsonAsync($"/v1/folders/{own}/restore", new { version = 1, token }))
        {
            Assert.True(restored.IsSuccessStatusCode, await restored.Content.ReadAsStringAsync());
            Assert.Equal("restored", (await restored.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("kind").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, (await alice.UnlockAsync(own, token)).Status);
        using (var byMember = await bob.Ocs.Http.PostAsJsonAsync($"/v1/folders/{bobs}/restore", new { version = 1, token = "x" }))
        {
            // bob owns it but holds no lock: FAILED_PRECONDITION, which the REST mapping answers 400.
            Assert.Equal(HttpStatusCode.BadRequest, byMember.StatusCode);
            Assert.Contains("\"NOT_LOCKED\"", await byMember.Content.ReadAsStringAsync());
        }

        var reset = await alice.Ocs.SendAsync(HttpMethod.Delete, "encrypted-files");

        Assert.Equal(HttpStatusCode.OK, reset.Status);
        Assert.Equal(new[] { long.Parse(sub), long.Parse(own) }.Order(), reset.Data.GetProperty("deletedIds").EnumerateArray().Select(i => i.GetInt64()).Order());
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync(own)).Status);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync(bobs)).Status); // shared with her, not hers: still there
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync(bobs)).Status);
    }
}
