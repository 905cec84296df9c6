using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Keyward.IntegrationTests.Infrastructure;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>
/// Public-share keys (2.1) through the front door: the share registry is fed from the instance's own link shares, so a
/// user who learned another user's share token cannot make its keys, and the keys go when the share goes on the instance.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class FrontDoorShareTests(KeywardSystem system)
{
    private const string E2ee = "/ocs/v2.php/apps/end_to_end_encryption/api/v2";
    private static readonly string Blob = $"{Convert.ToBase64String(new byte[48])}|{Convert.ToBase64String(new byte[12])}|{Convert.ToBase64String(new byte[40])}";

    [Fact]
    public async Task Only_the_owner_of_the_instances_link_share_makes_its_keys_and_they_go_when_the_share_goes()
    {
        await using var door = await FrontDoorSetup.StartAsync(system, "front-door-shares");
        var (alice, visitor, mallory) = (door.Users[0], door.Users[1], door.Users[2]);
        using var aliceHttp = door.DesktopClient(alice);
        using var malloryHttp = door.DesktopClient(mallory);
        using var visitorHttp = door.DesktopClient(visitor);
        Assert.Equal(HttpStatusCode.Created, (await aliceHttp.SendAsync(new HttpRequestMessage(new HttpMethod("MKCOL"), $"/remote.php/dav/files/{alice.Id}/Shared"))).StatusCode);
        using var created = await aliceHttp.PostAsync("/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["path"] = "/Shared", ["shareType"] = "3", ["permissions"] = "1" }));
        var share = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("ocs").GetProperty("data");
        var token = share.GetProperty("token").GetString()!;

        using var squatted = await PostAsync(malloryHttp, "public-key", ("csr", Csr($"s:{token}")), ("shareToken", token));
        using var certificate = await PostAsync(aliceHttp, "public-key", ("csr", Csr($"s:{token}")), ("shareToken", token));
        using var privateKey = await PostAsync(aliceHttp, "private-key", ("privateKey", Blob), ("shareToken", token));
        var whileShared = await VisitAsync(visitorHttp, token);
        using var unshared = await aliceHttp.DeleteAsync($"/ocs/v2.php/apps/files_sharing/api/v1/shares/{share.GetProperty("id").GetString()}?format=json");
        var afterUnshare = await VisitAsync(visitorHttp, token);
        using var certificateAfter = await visitorHttp.GetAsync($"{E2ee}/public-key?users={Uri.EscapeDataString($"[\"s:{token}\"]")}");

        Assert.NotEqual(HttpStatusCode.OK, squatted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, certificate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, privateKey.StatusCode);
        Assert.Equal((HttpStatusCode.OK, Blob), whileShared);
        Assert.Equal(HttpStatusCode.OK, unshared.StatusCode);
        // Gone with the share, as Keyward answers for a share it does not know (ShareKeyTests): the key refused, no certificate.
        Assert.Equal(HttpStatusCode.Forbidden, afterUnshare.Status);
        Assert.Equal(HttpStatusCode.NotFound, certificateAfter.StatusCode);
        var removed = await AuditTrailClient.For(system, TestTenants.TenantF).WaitForAsync("actionPrefix=keys.share.removed", 1);
        Assert.NotEmpty(removed);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string endpoint, params (string Name, string Value)[] form) =>
        http.PostAsync($"{E2ee}/{endpoint}", new FormUrlEncodedContent(form.Select(f => KeyValuePair.Create(f.Name, f.Value))));

    private static async Task<(HttpStatusCode Status, string? Key)> VisitAsync(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{E2ee}/private-key") { Headers = { { "x-nc-e2ee-share-token", token } } };
        using var response = await http.SendAsync(request);
        var data = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("ocs").GetProperty("data");
        return (response.StatusCode, data.ValueKind == JsonValueKind.Object && data.TryGetProperty("private-key", out var key) ? key.GetString() : null);
    }

    private static string Csr(string commonName)
    {
        using var key = RSA.Create(2048);
        return new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
    }
}
