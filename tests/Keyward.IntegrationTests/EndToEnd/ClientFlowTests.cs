using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Keyward.Client;
using Keyward.IntegrationTests.Infrastructure;
using Npgsql;
using RabbitMQ.Client;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>
/// The whole E2EE flow with the keyward CLI over all five services on the real stack, then the central
/// promise checked: no mnemonic, private key, metadata key, file key, file name or file content is stored
/// or sent anywhere in plaintext.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ClientFlowTests(KeywardSystem system)
{
    [Fact]
    public async Task Alice_shares_with_bob_unshares_and_adds_a_device_and_nothing_secret_reaches_the_server()
    {
        using var capture = await AuditCapture.StartAsync(system.Stack.RabbitMq);
        var run = Guid.NewGuid().ToString("N")[..8];
        var alice = new KeywardCli(system, $"alice-{run}", run);
        var bob = new KeywardCli(system, $"bob-{run}", run);
        var aliceLaptop = new KeywardCli(system, alice.User, run, device: "laptop");
        var aliceTablet = new KeywardCli(system, alice.User, run, device: "tablet");
        var admin = new KeywardCli(system, $"admin-{run}", run, roles: "user,admin");
        var secondAdmin = new KeywardCli(system, $"admin2-{run}", run, roles: "user,admin");
        var secrets = new List<string>();

        // The admins make the recovery key offline and turn recovery on: users are told and escrow their keys.
        var recoveryKey = Path.Combine(Path.GetTempPath(), $"keyward-recovery-{run}.key");
        var recoveryFingerprint = KeywardCli.Fingerprint(await admin.OkAsync("recovery", "init", "--out", recoveryKey));
        await admin.OkAsync("recovery", "enable", "--public-key", recoveryKey + ".pub");
        secrets.Add(string.Concat(File.ReadAllText(recoveryKey).Split('\n').Skip(1).Take(2)));

        // Escrow only with the user's consent to that very key.
        var init = await alice.OkAsync("init", "--accept-recovery", recoveryFingerprint);
        var mnemonic = KeywardCli.Mnemonic(init);
        Assert.Contains("An escrow copy of your private key", init);
        secrets.AddRange([mnemonic, Mnemonics.Password(mnemonic)]);
        await bob.OkAsync("init");

        await alice.OkAsync("folder", "create", "holiday");
        var fileContent = $"the beach house code is 4711-{run}";
        var fileName = $"secret-plan-{run}.txt";
        await alice.OkAsync("put", "holiday", alice.WriteFile(fileName, fileContent));
        await alice.OkAsync("put", "holiday", alice.WriteFile($"second-{run}.txt", $"more private words {run}"));
        Assert.Contains(fileName, await alice.OkAsync("ls", "holiday"));
        secrets.AddRange([fileContent, fileName, $"more private words {run}"]);

        var folderId = alice.FolderId("holiday");
        var laterName = await ShareThenUnshareAsync(alice, bob, folderId, fileName, fileContent, run, secrets);
        // And were the server to hand it over, bob's key would not open the new metadata: it was rotated without him.
        var current = (await new E2eeFolders(OcsClient.For(system, alice.User, TestTenants.TenantA)).GetAsync(folderId)).Data.GetProperty("meta-data").GetString()!;
        using (var bobKey = RSA.Create())
        {
            bobKey.ImportFromPem(bob.Device()["PrivateKeyPem"]!.GetValue<string>());
            Assert.ThrowsAny<CryptographicException>(() => MetadataV2.UnwrapKey(current, bob.User, bobKey));
        }

        // A second device from the mnemonic alone, and it reads everything.
        await aliceLaptop.OkAsync("device", "add", "--mnemonic", mnemonic);
        Assert.Equal($"bob must not read this {run}", await aliceLaptop.OkAsync("get", folderId, laterName));
        Assert.Equal(1, (await aliceLaptop.RunAsync("device", "add", "--mnemonic", "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")).ExitCode);

        // A third device without the mnemonic: it asks, the phone approves, the key travels sealed to the tablet's ephemeral key.
        var (requesting, code) = await aliceTablet.StartDeviceRequestAsync();
        await alice.OkAsync("device", "approve", "--code", code);
        await requesting.WaitForExitAsync();
        Assert.Equal(0, requesting.ExitCode);
        Assert.Equal(fileContent, await aliceTablet.OkAsync("get", folderId, fileName));

        // Key transparency: everything so far was done by alice's own devices, so nothing of hers is flagged.
        var watched = await alice.RunAsync("monitor");
        var ownLines = watched.Output.Split('\n').Where(l => l.Contains("\tkeys.") && !l.Contains("(tenant-wide)")).ToList();
        Assert.Contains(ownLines, l => l.Contains("keys.certificate.issued"));
        Assert.Contains(ownLines, l => l.Contains("keys.device.enrolled"));
        Assert.All(ownLines, l => Assert.False(l.StartsWith("FLAGGED", StringComparison.Ordinal), l));

        // The admin recovers alice's private key offline from her escrow copy, once a second admin approved the release.
        var recovered = Path.Combine(Path.GetTempPath(), $"keyward-recovered-{run}.pem");
        Assert.Contains("needs 2 admins' approval", (await admin.RunAsync("recovery", "recover", "--user", alice.User, "--key", recoveryKey, "--out", recovered)).Output);
        var release = KeywardCli.ChangeId(await admin.OkAsync("recovery", "release", "--user", alice.User));
        Assert.NotEqual(0, (await admin.RunAsync("recovery", "approve", "--change", release)).ExitCode);
        Assert.Contains("approved", await secondAdmin.OkAsync("recovery", "approve", "--change", release));
        await admin.OkAsync("recovery", "recover", "--user", alice.User, "--key", recoveryKey, "--out", recovered);
        Assert.Equal(alice.Device()["PrivateKeyPem"]!.GetValue<string>().Trim(), File.ReadAllText(recovered).Trim());
        File.Delete(recovered);
        Assert.NotEqual(0, (await bob.RunAsync("recovery", "recover", "--user", alice.User, "--key", recoveryKey, "--out", recovered)).ExitCode);
        // The release was used up, and alice is told who took her key.
        Assert.NotEqual(0, (await admin.RunAsync("recovery", "recover", "--user", alice.User, "--key", recoveryKey, "--out", recovered)).ExitCode);
        Assert.Contains($"RELEASED", await alice.OkAsync("status"));
        // …and her monitor flags the release: none of her devices did that.
        var flagged = await alice.RunAsync("monitor");
        Assert.Equal(1, flagged.ExitCode);
        Assert.Contains(flagged.Output.Split('\n'), l => l.StartsWith("FLAGGED", StringComparison.Ordinal) && l.Contains("keys.escrow.fetched"));
        Assert.DoesNotContain("keys.certificate.issued", flagged.Output);

        // A re-issued certificate: alice's client pinned bob's first one and warns before trusting the new one.
        await admin.OkAsync("cert", "reissue", "--user", bob.User);
        var warned = await alice.RunAsync("share", "holiday", bob.User);
        Assert.Equal(1, warned.ExitCode);
        Assert.Contains("certificate changed", warned.Output);
        await alice.OkAsync("share", "holiday", bob.User, "--accept-new-certificate");
        var bobWatch = await bob.RunAsync("monitor");
        Assert.Equal(1, bobWatch.ExitCode);
        Assert.Contains(bobWatch.Output.Split('\n'), l => l.StartsWith("FLAGGED", StringComparison.Ordinal) && l.Contains("keys.certificate.reissued") && l.Contains($"by {admin.User}"));
        File.Delete(recoveryKey);
        File.Delete(recoveryKey + ".pub");

        using var rest = system.Http(system.Gateway, system.Tenants.Token(alice.User, tenant: TestTenants.TenantA));
        await AssertNothingSecretStoredOrSentAsync(capture, secrets, [alice, bob], rest, folderId);
    }

    [Fact]
    public async Task Through_a_Nextcloud_front_door_with_app_passwords_only_alice_shares_over_webdav_unshares_and_nothing_secret_reaches_keyward_or_the_instance()
    {
        // The same flow as a Nextcloud user: no Keyward token anywhere, only a login and an app password at the front door.
        // Folders are the instance's (its file ids), bodies go over WebDAV under the lock, shares are the instance's too.
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-client-flow");
        using var capture = await AuditCapture.StartAsync(system.Stack.RabbitMq);
        var run = Guid.NewGuid().ToString("N")[..8];
        var alice = KeywardCli.ThroughFrontDoor(system, door, door.Users[0], run);
        var bob = KeywardCli.ThroughFrontDoor(system, door, door.Users[1], run); // signs in as Login.…@example.org, is nc-…-b
        var aliceLaptop = KeywardCli.ThroughFrontDoor(system, door, door.Users[0], run, device: "laptop");
        var secrets = new List<string>();

        var mnemonic = KeywardCli.Mnemonic(await alice.OkAsync("init"));
        secrets.AddRange([mnemonic, Mnemonics.Password(mnemonic)]);
        Assert.Contains($"Keys for {door.Users[1].Id} are set up", await bob.OkAsync("init"));

        await alice.OkAsync("folder", "create", "holiday");
        var folderId = alice.FolderId("holiday");
        var fileContent = $"the beach house code is 4711-{run}";
        var fileName = $"secret-plan-{run}.txt";
        await alice.OkAsync("put", "holiday", alice.WriteFile(fileName, fileContent));
        await alice.OkAsync("put", "holiday", alice.WriteFile($"second-{run}.txt", $"more private words {run}"));
        Assert.Contains(fileName, await alice.OkAsync("ls", "holiday"));
        secrets.AddRange([fileContent, fileName, $"more private words {run}"]);

        // The folder is the instance's: its file id, flagged encrypted, with Keyward's metadata in the listing.
        using var aliceDav = door.DesktopClient(door.Users[0]);
        var listing = await PropFindAsync(aliceDav, $"/remote.php/dav/files/{door.Users[0].Id}/holiday", "0", "<oc:fileid/><nc:is-encrypted/><nc:e2ee-metadata/>");
        XNamespace oc = "http://owncloud.org/ns", nc = "http://nextcloud.org/ns";
        Assert.Equal(folderId, listing.Descendants(oc + "fileid").Single().Value);
        Assert.Equal("1", listing.Descendants(nc + "is-encrypted").Single().Value);
        Assert.NotEmpty(listing.Descendants(nc + "e2ee-metadata").Single().Value);

        var laterName = await ShareThenUnshareAsync(alice, bob, folderId, fileName, fileContent, run, secrets);
        using var bobDav = door.DesktopClient(door.Users[1]);
        using (var gone = await bobDav.SendAsync(new HttpRequestMessage(new HttpMethod("PROPFIND"), $"/remote.php/dav/files/{door.Users[1].Id}/holiday") { Headers = { { "Depth", "0" } } }))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode); // and the instance no longer shares the files with him
        }

        // A second device from the mnemonic alone reads everything, the files straight from the instance.
        await aliceLaptop.OkAsync("device", "add", "--mnemonic", mnemonic);
        Assert.Equal($"bob must not read this {run}", await aliceLaptop.OkAsync("get", folderId, laterName));

        // On the instance: three bodies under random object names, nothing staged left, no plaintext name or content.
        var folderOnDisk = Path.Combine(door.DataDirectory, door.Users[0].Id, "holiday");
        var bodies = Directory.GetFiles(folderOnDisk);
        Assert.Equal(3, bodies.Length);
        Assert.All(bodies, b => Assert.Matches("^[0-9a-f]{32}$", Path.GetFileName(b)));
        var onInstance = string.Concat(Directory.GetFiles(door.DataDirectory, "*", SearchOption.AllDirectories).Select(f => Path.GetFileName(f) + File.ReadAllText(f)));
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, onInstance, StringComparison.Ordinal);
        }

        using var rest = door.DesktopClient(door.Users[0]);
        await AssertNothingSecretStoredOrSentAsync(capture, secrets, [alice, bob], rest, folderId);
    }

    /// <summary>
    /// Alice shares the folder, bob reads the file; alice unshares and writes a new file, which bob is refused. Returns
    /// the new file's name.
    /// </summary>
    private static async Task<string> ShareThenUnshareAsync(KeywardCli alice, KeywardCli bob, string folderId, string fileName, string fileContent, string run, List<string> secrets)
    {
        await alice.OkAsync("share", "holiday", bob.User);
        Assert.Equal(fileContent, await bob.OkAsync("get", folderId, fileName));

        await alice.OkAsync("unshare", "holiday", bob.User);
        var laterName = $"after-unshare-{run}.txt";
        await alice.OkAsync("put", "holiday", alice.WriteFile(laterName, $"bob must not read this {run}"));
        secrets.AddRange([laterName, $"bob must not read this {run}"]);
        var refused = await bob.RunAsync("get", folderId, laterName);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("403 You are not allowed to access the metadata of this folder", refused.Output);
        return laterName;
    }

    private static async Task<XDocument> PropFindAsync(HttpClient http, string path, string depth, string properties)
    {
        using var request = new HttpRequestMessage(new HttpMethod("PROPFIND"), path)
        {
            Content = new StringContent($"<d:propfind xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\"><d:prop>{properties}</d:prop></d:propfind>",
                Encoding.UTF8, "application/xml"),
        };
        request.Headers.Add("Depth", depth);
        using var response = await http.SendAsync(request);
        Assert.Equal(207, (int)response.StatusCode);
        return XDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_buggy_client_wipes_the_file_list_and_the_owner_restores_the_last_good_version_which_a_second_client_accepts()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var alice = new KeywardCli(system, $"alice-{run}", run);
        var bob = new KeywardCli(system, $"bob-{run}", run);
        await alice.OkAsync("init");
        await bob.OkAsync("init");
        await alice.OkAsync("folder", "create", "docs");
        var fileName = $"report-{run}.txt";
        await alice.OkAsync("put", "docs", alice.WriteFile(fileName, $"quarterly figures {run}"));
        await alice.OkAsync("share", "docs", bob.User);
        var folderId = alice.FolderId("docs");
        Assert.Contains(fileName, await bob.OkAsync("ls", folderId));

        // alice's other, buggy client writes well-formed, correctly signed metadata that lists no files.
        var ocs = new E2eeFolders(OcsClient.For(system, alice.User, TestTenants.TenantA));
        var current = (await ocs.GetAsync(folderId)).Data.GetProperty("meta-data").GetString()!;
        using (var key = RSA.Create())
        {
            key.ImportFromPem(alice.Device()["PrivateKeyPem"]!.GetValue<string>());
            var metadataKey = MetadataV2.UnwrapKey(current, alice.User, key);
            var content = MetadataV2.Open(current, metadataKey);
            content.Files.Clear();
            content.Counter++;
            var wiped = MetadataV2.Seal(content, metadataKey, MetadataV2.Users(current).ToList());
            await ocs.CommitAsync(folderId, wiped, content.Counter, create: false, signature: MetadataV2.Sign(wiped, key, alice.Device()["CertificatePem"]!.GetValue<string>()));
        }

        Assert.DoesNotContain(fileName, await bob.OkAsync("ls", folderId));

        // The history shows every version, each verified by the server; the owner brings the files back.
        var versions = await alice.OkAsync("folder", "versions", "docs");
        Assert.Equal(4, versions.Split('\n').Count(l => l.Contains("\tverified")));
        Assert.Contains("counter 5", await alice.OkAsync("folder", "restore", "docs", "--version", "3"));

        // bob's device accepts it (its counter grew past the wiped one) and reads the file again.
        Assert.Contains(fileName, await bob.OkAsync("ls", folderId));
        Assert.Equal($"quarterly figures {run}", await bob.OkAsync("get", folderId, fileName));
        var restored = (await ocs.GetAsync(folderId)).Data.GetProperty("meta-data").GetString()!;
        Assert.NotEqual(current, restored);
    }

    [Fact]
    public async Task A_certificate_swapped_in_the_database_is_refused_by_a_sharing_client_because_the_key_transparency_log_lists_another()
    {
        // Adversary: a DB writer (or the operator) who serves their own certificate as bob's, to read what alice shares.
        var run = Guid.NewGuid().ToString("N")[..8];
        var alice = new KeywardCli(system, $"alice-{run}", run);
        var bob = new KeywardCli(system, $"bob-{run}", run);
        var mallory = new KeywardCli(system, $"mallory-{run}", run);
        await alice.OkAsync("init");
        await bob.OkAsync("init");
        await mallory.OkAsync("init");
        await alice.OkAsync("folder", "create", "plans");
        await using (var data = NpgsqlDataSource.Create(system.Stack.Postgres))
        {
            await using var swap = data.CreateCommand(
                "update keyserver.mt_doc_storedcertificate set data = jsonb_set(data, '{CertificatePem}', to_jsonb(@pem::text)) where id = @user");
            swap.Parameters.AddWithValue("pem", mallory.Device()["CertificatePem"]!.GetValue<string>());
            swap.Parameters.AddWithValue("user", bob.User);
            Assert.Equal(1, await swap.ExecuteNonQueryAsync());
        }

        var (exitCode, output) = await alice.RunAsync("share", "plans", bob.User);

        Assert.Equal(1, exitCode);
        Assert.Contains($"refusing {bob.User}'s certificate: the certificate served for {bob.User}", output);
        Assert.Contains("is not the one the key-transparency log lists", output);
        Assert.DoesNotContain(bob.User, await alice.OkAsync("ls", "plans"));
    }

    [Fact]
    public async Task A_witness_cosigns_only_a_log_that_grew_consistently_and_its_cosignature_is_served_with_the_checkpoint()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var user = new KeywardCli(system, $"carol-{run}", run);
        await user.OkAsync("init");
        var witness = new KeywardCli(system, $"witness-{run}", run, roles: "witness", device: "witness");
        witness.WriteWitness(TestWitness.Cosigner.Verifier.Name, System.Security.Cryptography.SHA256.HashData("keyward test witness"u8.ToArray()));

        Assert.Contains("cosigned keyward.local/tenant-a/keys at size", await witness.OkAsync("witness", "cosign", "--log", "keys"));

        using var http = system.Http(system.Gateway, system.Tenants.Token(user.User, "user", TestTenants.TenantA));
        var note = await http.GetStringAsync("/v1/keys/transparency/checkpoint");
        var key = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/v1/ca/checkpoint-key")).RootElement.GetProperty("publicKeyPem").GetString()!;
        var origin = $"keyward.local/{TestTenants.TenantA}/keys";
        var policy = new Keyward.Transparency.CheckpointPolicy(origin, Keyward.Transparency.EcdsaNoteVerifier.FromPem(origin, key), [TestWitness.Cosigner.Verifier], requiredCosignatures: 1);
        Assert.True(policy.Verify(note).IsValid, $"{policy.Verify(note).Problem}: {note}");

        // A witness nobody configured is not heard.
        var stranger = new KeywardCli(system, $"stranger-{run}", run, roles: "witness", device: "stranger");
        await stranger.OkAsync("witness", "init", "--name", "stranger.test/w9");
        var (exitCode, output) = await stranger.RunAsync("witness", "cosign", "--log", "keys");
        Assert.Equal(1, exitCode);
        Assert.Contains("403 'stranger.test/w9' is not a witness of this deployment", output);
    }

    [Fact]
    public async Task A_key_swapped_into_a_device_request_makes_the_approving_device_refuse_and_nothing_is_sealed()
    {
        // Adversary (a), the server operator or a DB writer: lists a key of their own for the new device's request.
        var run = Guid.NewGuid().ToString("N")[..8];
        var phone = new KeywardCli(system, $"alice-{run}", run);
        var tablet = new KeywardCli(system, phone.User, run, device: "tablet");
        await phone.OkAsync("init");
        var (requesting, code) = await tablet.StartDeviceRequestAsync();
        using var attacker = RSA.Create(3072);
        await using (var data = NpgsqlDataSource.Create(system.Stack.Postgres))
        {
            await using var swap = data.CreateCommand(
                "update keyserver.mt_doc_storeddevicerequest set data = jsonb_set(data, '{EphemeralPublicKey}', to_jsonb(@key::text)) where data->>'UserId' = @user");
            swap.Parameters.AddWithValue("key", attacker.ExportSubjectPublicKeyInfoPem());
            swap.Parameters.AddWithValue("user", phone.User);
            Assert.Equal(1, await swap.ExecuteNonQueryAsync());
        }

        var (exitCode, output) = await phone.RunAsync("device", "approve", "--code", code);

        requesting.Kill();
        Assert.NotEqual(0, exitCode);
        Assert.Contains("Do not approve", output);
        await using (var data = NpgsqlDataSource.Create(system.Stack.Postgres))
        {
            await using var state = data.CreateCommand("select data->>'Status', data->>'SealedPrivateKey' from keyserver.mt_doc_storeddevicerequest where data->>'UserId' = @user");
            state.Parameters.AddWithValue("user", phone.User);
            await using var row = await state.ExecuteReaderAsync();
            Assert.True(await row.ReadAsync());
            Assert.Equal("pending", row.GetString(0));
            Assert.True(row.IsDBNull(1));
        }
    }

    [Fact]
    public async Task A_recovery_key_swapped_by_admins_is_never_used_by_a_device_that_consented_to_the_old_one()
    {
        // Adversary (b), tenant admins: one tries to replace the recovery key alone, then two rotate it together.
        var run = Guid.NewGuid().ToString("N")[..8];
        var first = new KeywardCli(system, $"adm1-{run}", run, roles: "user,admin", tenant: TestTenants.TenantB);
        var second = new KeywardCli(system, $"adm2-{run}", run, roles: "user,admin", tenant: TestTenants.TenantB);
        var carol = new KeywardCli(system, $"carol-{run}", run, tenant: TestTenants.TenantB);
        var original = Path.Combine(Path.GetTempPath(), $"keyward-recovery-{run}-1.key");
        var swapped = Path.Combine(Path.GetTempPath(), $"keyward-recovery-{run}-2.key");
        var originalFingerprint = KeywardCli.Fingerprint(await first.OkAsync("recovery", "init", "--out", original));
        var swappedFingerprint = KeywardCli.Fingerprint(await second.OkAsync("recovery", "init", "--out", swapped));
        await first.OkAsync("recovery", "enable", "--public-key", original + ".pub");
        var init = await carol.OkAsync("init", "--accept-recovery", originalFingerprint);
        var mnemonic = KeywardCli.Mnemonic(init);

        // Alone, the second admin can neither replace the key nor rotate it.
        Assert.NotEqual(0, (await second.RunAsync("recovery", "enable", "--public-key", swapped + ".pub")).ExitCode);
        var rotation = KeywardCli.ChangeId(await second.OkAsync("recovery", "rotate", "--public-key", swapped + ".pub"));
        Assert.Contains(originalFingerprint, await carol.OkAsync("status"));

        // Together they can; carol's device, which consented to the old key, refuses the new one and says so.
        await first.OkAsync("recovery", "approve", "--change", rotation);
        var status = await carol.OkAsync("status");
        Assert.Contains($"key {swappedFingerprint} — NOT the one you consented to", status);
        var readopted = await carol.OkAsync("device", "add", "--mnemonic", mnemonic);
        Assert.Contains("CHANGED", readopted);
        Assert.NotEqual(0, (await carol.RunAsync("recovery", "consent", "--accept-recovery", originalFingerprint)).ExitCode);
        await using (var data = NpgsqlDataSource.Create(system.Stack.Postgres))
        {
            await using var escrow = data.CreateCommand("select data->>'RecoveryFingerprint' from keyserver.mt_doc_storedescrow where id = @user and tenant_id = @tenant");
            escrow.Parameters.AddWithValue("user", carol.User);
            escrow.Parameters.AddWithValue("tenant", TestTenants.TenantB);
            Assert.Equal(originalFingerprint, (string?)await escrow.ExecuteScalarAsync());
        }

        // Disabling takes two admins too; the history of keys stays, and nothing can be released while recovery is off.
        var disabling = KeywardCli.ChangeId(await first.OkAsync("recovery", "disable"));
        Assert.Contains("approved", await second.OkAsync("recovery", "approve", "--change", disabling));
        Assert.Contains("key recovery: off", await carol.OkAsync("status"));
        Assert.NotEqual(0, (await first.RunAsync("recovery", "release", "--user", carol.User)).ExitCode);
        using var rest = system.Http(system.Gateway, system.Tenants.Token(first.User, "user,admin", TestTenants.TenantB));
        var policy = JsonNode.Parse(await rest.GetStringAsync("/v1/keys/recovery"))!;
        Assert.Equal([originalFingerprint, swappedFingerprint], policy["previousFingerprints"]!.AsArray().Select(f => (string?)f));

        foreach (var file in new[] { original, original + ".pub", swapped, swapped + ".pub" })
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// Adds every key that existed to <paramref name="secrets"/> (the users' private keys, every metadata key version of
    /// the folder, every file key), then checks that none of them is in any table of any service or in any message sent.
    /// </summary>
    private async Task AssertNothingSecretStoredOrSentAsync(AuditCapture capture, List<string> secrets, KeywardCli[] users, HttpClient rest, string folderId)
    {
        foreach (var cli in users)
        {
            var privateKey = cli.Device()["PrivateKeyPem"]!.GetValue<string>();
            secrets.Add(string.Concat(privateKey.Split('\n').Skip(1).Take(3)));
            secrets.Add(Convert.ToBase64String(Encoding.ASCII.GetBytes(privateKey))[..60]);
        }

        using var ownerKey = RSA.Create();
        ownerKey.ImportFromPem(users[0].Device()["PrivateKeyPem"]!.GetValue<string>());
        var versions = JsonNode.Parse(await rest.GetStringAsync($"/v1/folders/{folderId}/versions"))!["versions"]!.AsArray();
        Assert.True(versions.Count >= 5);
        foreach (var version in versions)
        {
            var metadata = JsonNode.Parse(await rest.GetStringAsync($"/v1/folders/{folderId}/versions/{version!["number"]}"))!["metadata"]!.GetValue<string>();
            var metadataKey = MetadataV2.UnwrapKey(metadata, users[0].User, ownerKey);
            secrets.AddRange([Convert.ToBase64String(metadataKey), Convert.ToHexString(metadataKey), Convert.ToHexStringLower(metadataKey)]);
            secrets.AddRange(MetadataV2.Open(metadata, metadataKey).Files.Values.Select(f => f.Key));
        }

        await Task.Delay(1500); // the relay and the audit consumer catch up
        var stored = await EverythingStoredAsync();
        var sent = capture.Messages();
        Assert.NotEmpty(sent);
        Assert.Contains(users[0].User, stored);
        foreach (var secret in secrets.Distinct())
        {
            Assert.False(stored.Contains(secret, StringComparison.Ordinal), $"a secret ({secret[..Math.Min(12, secret.Length)]}…) is stored in the database");
            Assert.False(sent.Contains(secret, StringComparison.Ordinal), $"a secret ({secret[..Math.Min(12, secret.Length)]}…) was sent through RabbitMQ");
        }
    }

    /// <summary>Every row of every table of every service, as text (bytea decoded where it holds text).</summary>
    private async Task<string> EverythingStoredAsync()
    {
        await using var data = NpgsqlDataSource.Create(system.Stack.Postgres);
        var tables = new List<(string Schema, string Table)>();
        await using (var list = data.CreateCommand("select table_schema, table_name from information_schema.tables where table_schema in ('keyserver','metadata','certificate_authority','gateway','audit') and table_type = 'BASE TABLE'"))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        Assert.Contains(tables, t => t.Table == "log_entries");
        Assert.Contains(tables, t => t.Table.StartsWith("mt_doc_storedprivatekey", StringComparison.Ordinal));
        var text = new StringBuilder();
        foreach (var (schema, table) in tables)
        {
            var select = table == "log_entries" ? "select t::text || convert_from(t.leaf, 'UTF8') from audit.log_entries t" : $"select t::text from \"{schema}\".\"{table}\" t";
            await using var command = data.CreateCommand(select);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                text.AppendLine(reader.IsDBNull(0) ? "" : reader.GetString(0));
            }
        }

        return text.ToString();
    }

    /// <summary>Copies every audit event published to RabbitMQ during the test into a queue of its own.</summary>
    private sealed class AuditCapture : IDisposable
    {
        private readonly IConnection _connection;
        private readonly IChannel _channel;
        private readonly string _queue;

        private AuditCapture(IConnection connection, IChannel channel, string queue)
        {
            _connection = connection;
            _channel = channel;
            _queue = queue;
        }

        public static async Task<AuditCapture> StartAsync(string amqp)
        {
            var connection = await new ConnectionFactory { Uri = new Uri(amqp) }.CreateConnectionAsync();
            var channel = await connection.CreateChannelAsync();
            var queue = (await channel.QueueDeclareAsync($"keyward-test-capture-{Guid.NewGuid():N}", durable: false, exclusive: true, autoDelete: true)).QueueName;
            // Single events and the outbox relays' batches.
            foreach (var exchange in new[] { "Keyward.AuditTrail:AuditEvent", "Keyward.AuditTrail:AuditEventBatch" })
            {
                await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true);
                await channel.QueueBindAsync(queue, exchange, "");
            }

            return new AuditCapture(connection, channel, queue);
        }

        public string Messages()
        {
            var text = new StringBuilder();
            while (_channel.BasicGetAsync(_queue, autoAck: true).GetAwaiter().GetResult() is { } message)
            {
                text.AppendLine(Encoding.UTF8.GetString(message.Body.Span));
            }

            return text.ToString();
        }

        public void Dispose()
        {
            _channel.Dispose();
            _connection.Dispose();
        }
    }
}
