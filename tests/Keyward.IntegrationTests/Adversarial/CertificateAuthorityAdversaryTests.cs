using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Keyward.CertificateAuthority.V1;
using Keyward.IntegrationTests.Infrastructure;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.IntegrationTests.Adversarial;

/// <summary>
/// Adversaries (b) a tenant admin and (d) any caller at the edge against the CA: no certificate in another user's
/// name, no re-issue of a key the admin brings, no HSM signature on demand. The CA signs only for the keyserver's
/// service identity, for the user that authenticated to the keyserver.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class CertificateAuthorityAdversaryTests(KeywardSystem system)
{
    [Theory]
    [InlineData("POST", "/v1/ca/certificates")]
    [InlineData("POST", "/v1/ca/checkpoints")]
    [InlineData("GET", "/v1/ca/certificates")]
    public async Task The_gateway_routes_no_CA_signing_call_for_an_admin(string method, string path)
    {
        using var http = system.Http(system.Gateway, system.Tenants.Token("tenant-admin", "user,admin", TestTenants.TenantA));
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent("{\"userId\":\"victim\",\"csrPem\":\"x\"}") };

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Signing_over_gRPC_through_the_gateway_is_unimplemented_while_the_server_key_is_served()
    {
        using var channel = system.GatewayGrpc();
        var ca = new CaClient(channel);
        var admin = Auth(system.Tenants.Token("tenant-admin", "user,admin", TestTenants.TenantA));

        var refused = await Assert.ThrowsAsync<RpcException>(() => ca.SignUserCsrAsync(new SignUserCsrRequest { UserId = "victim", CsrPem = Csr("victim", RSA.Create(2048)) }, admin).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
        Assert.Contains("BEGIN PUBLIC KEY", (await ca.GetServerKeyAsync(new GetServerKeyRequest(), admin)).PublicKeyPem);
    }

    [Fact]
    public async Task An_admin_who_reaches_the_CA_directly_gets_no_certificate_for_another_user_and_the_attempt_is_audited()
    {
        var admin = $"admin-{Guid.NewGuid():N}"[..16];
        using var channel = GrpcChannel.ForAddress(system.Service("certificate-authority").GrpcAddress);
        var ca = new CaClient(channel);
        using var adminKey = RSA.Create(2048);
        var token = Auth(system.Tenants.Token(admin, "user,admin", TestTenants.TenantA));

        var forVictim = await Assert.ThrowsAsync<RpcException>(() => ca.SignUserCsrAsync(new SignUserCsrRequest { UserId = "victim", CsrPem = Csr("victim", adminKey) }, token).ResponseAsync);
        var reissue = await Assert.ThrowsAsync<RpcException>(() => ca.SignUserCsrAsync(
            new SignUserCsrRequest { UserId = "victim", ReissueCertificatePem = SelfSigned("victim", adminKey) }, token).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, forVictim.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, reissue.StatusCode);
        var audited = await AuditTrailClient.For(system, TestTenants.TenantA).WaitForAsync($"actor={admin}&action=ca.certificate.refused", 2);
        Assert.All(audited, e => Assert.Equal("NOT_ALLOWED", e.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task A_user_gets_a_certificate_for_their_own_name_only_through_the_keyserver()
    {
        var user = $"own-{Guid.NewGuid():N}"[..16];
        var ocs = OcsClient.For(system, user, TestTenants.TenantA);
        using var key = RSA.Create(2048);

        var foreign = await ocs.PostAsync("public-key", new Dictionary<string, string> { ["csr"] = Csr("victim", key) });
        var own = await ocs.PostAsync("public-key", new Dictionary<string, string> { ["csr"] = Csr(user, key) });

        Assert.Equal(HttpStatusCode.Forbidden, foreign.Status);
        Assert.Equal(HttpStatusCode.OK, own.Status);
        using var certificate = X509Certificate2.CreateFromPem(own.Data.GetProperty("public-key").GetString()!);
        Assert.Equal($"CN={user}", certificate.Subject);
    }

    private static Grpc.Core.Metadata Auth(string token) => new() { { "authorization", $"Bearer {token}" } };

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static string Csr(string cn, RSA key) => new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();

    private static string SelfSigned(string cn, RSA key)
    {
        using var certificate = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem();
    }
}
