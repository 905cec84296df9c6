using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Keyward.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>
/// The gateway in front of a Nextcloud instance (the stand-in), called the way Nextcloud's clients call Nextcloud:
/// Basic with an app password, nothing Keyward-specific. Keyward serves the E2EE API for the user the instance names
/// (its <c>data.id</c>), the capabilities are the instance's with Keyward's block in them, everything else is the
/// instance's own, streamed.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class FrontDoorTests(KeywardSystem system, ITestOutputHelper output)
{
    private const string E2ee = "/ocs/v2.php/apps/end_to_end_encryption/api/v2";

    private static readonly string Blob = $"{Convert.ToBase64String(new byte[48])}|{Convert.ToBase64String(new byte[12])}|{Convert.ToBase64String(new byte[40])}";

    [Fact]
    public async Task A_user_with_an_app_password_gets_a_certificate_in_the_name_the_instance_gives_and_stores_their_key()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-keys");
        var user = door.Users[1]; // logs in as an e-mail address; the instance knows them by another id
        using var http = door.DesktopClient(user);

        var key = RSA.Create(2048);
        var mine = await PostFormAsync(http, $"{E2ee}/public-key", ("csr", Csr(user.Id, key)));
        var asLogin = await PostFormAsync(http, $"{E2ee}/public-key", ("csr", Csr(user.Login, RSA.Create(2048))));
        var stored = await PostFormAsync(http, $"{E2ee}/private-key", ("privateKey", Blob));
        var fetched = await http.GetAsync($"{E2ee}/private-key");
        var published = await http.GetAsync($"{E2ee}/public-key?users={Uri.EscapeDataString(JsonSerializer.Serialize(new[] { user.Id }))}");

        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        var certificate = X509Certificate2.CreateFromPem(Data(await mine.Content.ReadAsStringAsync()).GetProperty("public-key").GetString()!);
        Assert.Equal($"CN={user.Id}", certificate.Subject);
        // The login name is not who they are: a certificate in that name is refused.
        Assert.NotEqual(HttpStatusCode.OK, asLogin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(Blob, Data(await fetched.Content.ReadAsStringAsync()).GetProperty("private-key").GetString());
        Assert.Contains(user.Id, Data(await published.Content.ReadAsStringAsync()).GetProperty("public-keys").EnumerateObject().Select(p => p.Name));

        // The audit trail names the instance's user id as the actor.
        var entries = await AuditTrailClient.For(system, TestTenants.TenantF).WaitForAsync($"actor={Uri.EscapeDataString(user.Id)}&actionPrefix=keys.private_key.stored", 1);
        Assert.Single(entries);
    }

    [Fact]
    public async Task Capabilities_are_the_instances_with_the_E2EE_block_for_a_user_and_without_it_for_anyone()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-capabilities");
        using var signedIn = door.Client(door.Users[0]);
        using var anonymous = door.Client();

        var mine = Data(await signedIn.GetStringAsync("/ocs/v2.php/cloud/capabilities?format=json"));
        var theirs = Data(await anonymous.GetStringAsync("/ocs/v2.php/cloud/capabilities?format=json"));

        Assert.Equal("30.0.4", mine.GetProperty("version").GetProperty("string").GetString());
        Assert.Equal("1.0", mine.GetProperty("capabilities").GetProperty("dav").GetProperty("chunking").GetString());
        var block = mine.GetProperty("capabilities").GetProperty("end-to-end-encryption");
        Assert.True(block.GetProperty("enabled").GetBoolean());
        Assert.Equal("2.1", block.GetProperty("api-version").GetString());
        Assert.False(block.GetProperty("keys-exist").GetBoolean());
        Assert.Equal("30.0.4", theirs.GetProperty("version").GetProperty("string").GetString());
        Assert.False(theirs.GetProperty("capabilities").TryGetProperty("end-to-end-encryption", out _));
    }

    [Fact]
    public async Task A_wrong_app_password_is_401_then_slowed_then_429_without_asking_the_instance_and_the_right_one_still_works_elsewhere()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-throttle",
        [
            new("Keyward__Gateway__LoginThrottle__MaxAttempts", "3"),
            new("Keyward__Gateway__LoginThrottle__BaseDelay", "00:00:00.050"),
        ]);
        var victim = door.Users[2];
        using var guesser = door.Client(victim, password: "guess");
        using var refused = await guesser.GetAsync($"{E2ee}/private-key");
        using var slowed = await guesser.GetAsync($"{E2ee}/private-key");
        await guesser.GetAsync($"{E2ee}/private-key");
        using var blocked = await guesser.GetAsync($"{E2ee}/private-key");
        // Even the right password is not tried from this address, nor for this login, until the window has passed.
        using var rightPassword = await door.DesktopClient(victim).GetAsync($"{E2ee}/private-key");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(997, Meta(await refused.Content.ReadAsStringAsync()).GetProperty("statuscode").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, slowed.StatusCode);
        Assert.Equal("100ms", slowed.Headers.GetValues("X-Nextcloud-Bruteforce-Throttled").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.Equal("Reached maximum delay", Meta(await blocked.Content.ReadAsStringAsync()).GetProperty("message").GetString());
        Assert.True(blocked.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.TooManyRequests, rightPassword.StatusCode);
    }

    [Fact]
    public async Task The_instance_down_is_503_for_logins_and_for_its_own_paths_never_a_login_failure()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-down", instanceAddress: new Uri("http://127.0.0.1:9/"));
        using var http = door.DesktopClient(door.Users[0]);

        using var key = await http.GetAsync($"{E2ee}/private-key");
        using var files = await http.SendAsync(new HttpRequestMessage(new HttpMethod("PROPFIND"), $"/remote.php/dav/files/{door.Users[0].Id}/"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, key.StatusCode);
        Assert.StartsWith("The Nextcloud instance could not be asked who you are", Meta(await key.Content.ReadAsStringAsync()).GetProperty("message").GetString());
        Assert.NotNull(key.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, files.StatusCode);
    }

    [Fact]
    public async Task WebDAV_goes_to_the_instance_with_forwarding_headers_and_a_Keyward_token_still_works_at_the_front_door()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-webdav");
        var user = door.Users[0];
        using var http = door.Client(user);
        var content = $"ciphertext {Guid.NewGuid()}";

        using var put = await http.PutAsync($"/remote.php/dav/files/{user.Id}/notes.bin", new StringContent(content));
        using var propfind = await http.SendAsync(new HttpRequestMessage(new HttpMethod("PROPFIND"), $"/remote.php/dav/files/{user.Id}/notes.bin")
        {
            Content = new StringContent("""<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/><oc:owner-id/></d:prop></d:propfind>""", Encoding.UTF8, "application/xml"),
            Headers = { { "Depth", "0" } },
        });
        var listing = await propfind.Content.ReadAsStringAsync();
        var echoed = JsonDocument.Parse(await http.GetStringAsync("/standin/echo")).RootElement;
        using var operatorClient = door.Client();
        operatorClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", system.Tenants.Token("operator", tenant: TestTenants.TenantF));
        var whoami = JsonDocument.Parse(await operatorClient.GetStringAsync("/v1/keys/whoami")).RootElement;

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Matches("^[0-9]{8}ocstandin1$", put.Headers.GetValues("OC-FileId").Single());
        Assert.Equal(content, await http.GetStringAsync($"/remote.php/dav/files/{user.Id}/notes.bin"));
        Assert.Equal((HttpStatusCode)207, propfind.StatusCode);
        Assert.Contains($"<oc:owner-id>{user.Id}</oc:owner-id>", listing);
        Assert.Matches("<oc:fileid>[0-9]+</oc:fileid>", listing);
        Assert.Equal("127.0.0.1", echoed.GetProperty("X-Forwarded-For").GetString());
        Assert.Equal($"{FrontDoorSetup.Host}:{door.Gateway.HttpPort}", echoed.GetProperty("X-Forwarded-Host").GetString());
        Assert.Equal("http", echoed.GetProperty("X-Forwarded-Proto").GetString());
        // The instance sees the caller's own credentials, never a Keyward token.
        Assert.StartsWith("Basic ", echoed.GetProperty("Authorization").GetString());
        Assert.Equal("operator", whoami.GetProperty("userId").GetString());
    }

    [Fact]
    public async Task A_1_GiB_upload_streams_through_the_front_door_without_the_gateway_growing()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-large");
        var user = door.Users[0];
        using var http = door.Client(user);
        const long Size = 1L << 30;
        var gateway = Process.GetProcessById(door.Gateway.Pid);
        var before = ResidentBytes(door.Gateway.Pid);
        long peak = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ResidentBytes(door.Gateway.Pid));
                await Task.Delay(50);
            }
        });

        var watch = Stopwatch.StartNew();
        using var put = await http.PutAsync($"/remote.php/dav/files/{user.Id}/large.bin", new GeneratedContent(Size));
        watch.Stop();
        await sampling.CancelAsync();
        await sampler;
        using var propfind = await http.SendAsync(new HttpRequestMessage(new HttpMethod("PROPFIND"), $"/remote.php/dav/files/{user.Id}/large.bin")
        {
            Content = new StringContent("""<d:propfind xmlns:d="DAV:"><d:prop><d:getcontentlength/></d:prop></d:propfind>""", Encoding.UTF8, "application/xml"),
            Headers = { { "Depth", "0" } },
        });

        output.WriteLine($"1 GiB through the front door in {watch.Elapsed.TotalSeconds:N1} s; gateway resident {before / 1048576} MiB before, at most {peak / 1048576} MiB during");
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Contains($"<d:getcontentlength>{Size}</d:getcontentlength>", await propfind.Content.ReadAsStringAsync());
        Assert.True(peak - before < 64L * 1048576, $"the gateway grew by {(peak - before) / 1048576} MiB while 1 GiB went through");
        Assert.False(gateway.HasExited);
    }

    private static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    private static string Csr(string commonName, RSA key) =>
        new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();

    private static Task<HttpResponseMessage> PostFormAsync(HttpClient http, string path, params (string Name, string Value)[] form) =>
        http.PostAsync(path, new FormUrlEncodedContent(form.Select(f => KeyValuePair.Create(f.Name, f.Value))));

    private static JsonElement Data(string body) => JsonDocument.Parse(body).RootElement.GetProperty("ocs").GetProperty("data");

    private static JsonElement Meta(string body) => JsonDocument.Parse(body).RootElement.GetProperty("ocs").GetProperty("meta");

    /// <summary>A body of <paramref name="size"/> bytes made as it is sent: the test holds none of it in memory either.</summary>
    private sealed class GeneratedContent(long size) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var chunk = new byte[1 << 20];
            RandomNumberGenerator.Fill(chunk);
            for (long sent = 0; sent < size; sent += chunk.Length)
            {
                await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, size - sent)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = size;
            return true;
        }
    }
}
