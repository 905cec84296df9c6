using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Keyward.IntegrationTests.Infrastructure;

namespace Keyward.IntegrationTests.Adversarial;

/// <summary>
/// Public-share keys (protocol 2.1, issue #15), from the side of a user who is not the share's owner: the instance
/// reports shares; only a share's owner makes its key pair (CN s:&lt;token&gt;) and stores its private key; a visitor
/// with the token reads the private key; the keys go with the share.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ShareKeyTests(KeywardSystem system)
{
    private static readonly string Blob = $"{Convert.ToBase64String(new byte[48])}|{Convert.ToBase64String(new byte[12])}|{Convert.ToBase64String(new byte[40])}";

    private static string NewUser(string role) => $"{role}-{Guid.NewGuid():N}"[..16];

    private static string NewToken() => Guid.NewGuid().ToString("N")[..15];

    private HttpClient Instance() => system.Http(system.Gateway, system.Tenants.Token("nextcloud", "instance", TestTenants.TenantA));

    private static string Csr(string commonName)
    {
        using var key = RSA.Create(2048);
        return new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
    }

    [Fact]
    public async Task Only_the_shares_owner_makes_its_keys_a_visitor_with_the_token_reads_them_and_they_go_with_the_share()
    {
        var ownerId = NewUser("owner");
        var owner = OcsClient.For(system, ownerId, TestTenants.TenantA);
        var strangerId = NewUser("stranger");
        var stranger = OcsClient.For(system, strangerId, TestTenants.TenantA);
        // GET public-key always adds the caller's own certificate (reference §a.2): the stranger has one.
        Assert.Equal(HttpStatusCode.OK, (await stranger.PostAsync("public-key", new Dictionary<string, string> { ["csr"] = Csr(strangerId) })).Status);
        var token = NewToken();
        using var instance = Instance();

        // Only the instance (or an admin) reports shares.
        using (var byUser = await owner.Http.PutAsJsonAsync($"/v1/keys/shares/{token}", new { ownerId, nodeId = "4711", permissions = 1 }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, byUser.StatusCode);
        }

        using (var registered = await instance.PutAsJsonAsync($"/v1/keys/shares/{token}", new { ownerId, nodeId = "4711", permissions = 1 }))
        {
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
        }

        // Someone else cannot make or fill the share's keys.
        var stolen = await stranger.PostAsync("public-key", new Dictionary<string, string> { ["csr"] = Csr($"s:{token}"), ["shareToken"] = token });
        Assert.True(stolen.Status == HttpStatusCode.Forbidden, stolen.Text);
        Assert.Equal("You are not the owner of the share", stolen.MetaMessage);
        var stolenKey = await stranger.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob, ["shareToken"] = token });
        Assert.Equal(HttpStatusCode.Forbidden, stolenKey.Status);

        // The owner: the CN must be s:<token>.
        var wrongName = await owner.PostAsync("public-key", new Dictionary<string, string> { ["csr"] = Csr(ownerId), ["shareToken"] = token });
        Assert.Equal(HttpStatusCode.Forbidden, wrongName.Status);
        Assert.Equal("Common name (CN) does not match the share token", wrongName.MetaMessage);
        var issued = await owner.PostAsync("public-key", new Dictionary<string, string> { ["csr"] = Csr($"s:{token}"), ["shareToken"] = token });
        Assert.True(issued.Status == HttpStatusCode.OK, issued.Text);
        using (var certificate = X509Certificate2.CreateFromPem(issued.Data.GetProperty("public-key").GetString()!))
        {
            Assert.Equal($"s:{token}", certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
        }

        Assert.Equal(HttpStatusCode.OK, (await owner.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob, ["shareToken"] = token })).Status);
        var listed = await stranger.GetAsync("public-key", new Dictionary<string, string> { ["users"] = $"[\"s:{token}\"]" });
        Assert.True(listed.Status == HttpStatusCode.OK, listed.Text);

        // A visitor with the token reads the share's private key; a made-up token gets nothing.
        Assert.Equal(Blob, (await PrivateKeyWithTokenAsync(stranger, token)).Data.GetProperty("private-key").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await PrivateKeyWithTokenAsync(stranger, NewToken())).Status);
        // The owner's own key is untouched by all of this.
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync("private-key")).Status);

        // The instance removes the share: its keys go with it.
        using (var removed = await instance.DeleteAsync($"/v1/keys/shares/{token}"))
        {
            Assert.True(removed.IsSuccessStatusCode, await removed.Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync("public-key", new Dictionary<string, string> { ["users"] = $"[\"s:{token}\"]" })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PrivateKeyWithTokenAsync(stranger, token)).Status);
    }

    [Fact]
    public async Task Reconcile_removes_the_shares_the_instance_no_longer_has_with_their_keys()
    {
        var ownerId = NewUser("owner");
        var owner = OcsClient.For(system, ownerId, TestTenants.TenantA);
        var kept = NewToken();
        var gone = NewToken();
        using var instance = Instance();
        foreach (var token in new[] { kept, gone })
        {
            (await instance.PutAsJsonAsync($"/v1/keys/shares/{token}", new { ownerId, nodeId = "42", permissions = 17 })).EnsureSuccessStatusCode();
            Assert.Equal(HttpStatusCode.OK, (await owner.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob, ["shareToken"] = token })).Status);
        }

        // Another owner cannot take a registered token over by registering it again.
        using (var takeover = await instance.PutAsJsonAsync($"/v1/keys/shares/{kept}", new { ownerId = "mallory", nodeId = "42", permissions = 17 }))
        {
            Assert.Equal(HttpStatusCode.Conflict, takeover.StatusCode);
        }

        using var reconciled = await instance.PostAsJsonAsync("/v1/keys/shares:reconcile", new { tokens = new[] { kept } });
        Assert.True(reconciled.IsSuccessStatusCode, await reconciled.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, (await PrivateKeyWithTokenAsync(owner, kept)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PrivateKeyWithTokenAsync(owner, gone)).Status);
    }

    private static Task<OcsReply> PrivateKeyWithTokenAsync(OcsClient client, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, client.PathOf("private-key"));
        request.Headers.Add("x-nc-e2ee-share-token", token);
        return client.SendAsync(request);
    }
}
