using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Keyward.IntegrationTests.Infrastructure;

namespace Keyward.IntegrationTests.Adversarial;

/// <summary>
/// Callers who would make the system work without bound, each against a gateway of its own with small budgets (the
/// defaults are far above what a real client does): a user asking for certificate after certificate, hammering
/// metadata writes or enrollment; a forger flooding the edge with bad tokens; an unauthenticated flood. Each is cut
/// off with 429, Retry-After and the OCS envelope, and nobody else is.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class RateLimitTests(KeywardSystem system)
{
    private const string TooMany = "Too many requests, try again later";

    [Fact]
    public async Task A_user_asking_for_certificates_metadata_writes_or_enrollment_without_end_is_429_and_other_users_are_not()
    {
        await using var gateway = await GatewayAsync("gateway-small-user-budgets",
            ("CertificateSigningPerUser", 2), ("EnrollmentPerUser", 2), ("MetadataWritesPerUser", 3));
        var greedy = OcsClient.For(system, $"greedy-{Guid.NewGuid():N}"[..16], TestTenants.TenantA, gateway: gateway);
        var other = OcsClient.For(system, $"other-{Guid.NewGuid():N}"[..16], TestTenants.TenantA, gateway: gateway);

        for (var i = 0; i < 2; i++)
        {
            Assert.NotEqual(HttpStatusCode.TooManyRequests, (await greedy.PostAsync("public-key", Csr(greedy.User))).Status);
        }

        AssertTooMany(await greedy.PostAsync("public-key", Csr(greedy.User)));
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsync("public-key", Csr(other.User))).Status);
        // Reading keys is no signing: still served to the greedy user.
        Assert.Equal(HttpStatusCode.OK, (await greedy.GetAsync("server-key")).Status);

        for (var i = 0; i < 2; i++)
        {
            Assert.NotEqual(HttpStatusCode.TooManyRequests, (await greedy.GetAsync("private-key")).Status);
        }

        AssertTooMany(await greedy.GetAsync("private-key"));

        var folder = Random.Shared.NextInt64(1, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < 3; i++)
        {
            Assert.NotEqual(HttpStatusCode.TooManyRequests, (await greedy.SendAsync(HttpMethod.Post, $"lock/{folder}")).Status);
        }

        AssertTooMany(await greedy.SendAsync(HttpMethod.Post, $"lock/{folder}"));
        // The OCS v1 entry point answers in its own envelope: HTTP 200, statuscode 429 in the body, as for every v1 failure.
        var v1 = OcsClient.For(system, greedy.User, TestTenants.TenantA, entry: "/ocs/v1.php", api: "v1", gateway: gateway);
        var v1Reply = await v1.SendAsync(HttpMethod.Put, $"encrypted/{folder}");
        Assert.True(v1Reply.StatusCode == 429, v1Reply.Text);
        Assert.Equal(TooMany, v1Reply.MetaMessage);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, (await other.SendAsync(HttpMethod.Post, $"lock/{folder}")).Status);
    }

    [Fact]
    public async Task A_forger_flooding_bad_tokens_is_cut_off_before_its_tokens_are_read_and_a_known_good_token_still_passes()
    {
        await using var gateway = await GatewayAsync("gateway-small-refused-budget", ("RefusedTokensPerSource", 5));
        var honest = OcsClient.For(system, $"honest-{Guid.NewGuid():N}"[..16], TestTenants.TenantA, gateway: gateway);
        Assert.Equal(HttpStatusCode.OK, (await honest.GetAsync("server-key")).Status);

        using var forger = system.Http(gateway);
        forger.DefaultRequestHeaders.Add("OCS-APIRequest", "true");
        var path = honest.PathOf("server-key");
        for (var i = 0; i < 5; i++)
        {
            using var refused = await SendForgedAsync(forger, path, i);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var cutOff = await SendForgedAsync(forger, path, 5))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, cutOff.StatusCode);
            Assert.True(cutOff.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 says when to come back");
            Assert.Contains(TooMany, await cutOff.Content.ReadAsStringAsync());
        }

        // gRPC callers hear it in their own protocol.
        var grpc = new Keyward.Keyserver.V1.Keyserver.KeyserverClient(Grpc.Net.Client.GrpcChannel.ForAddress(gateway.GrpcAddress));
        var exhausted = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await grpc.WhoAmIAsync(new Keyward.Common.V1.WhoAmIRequest(), new Grpc.Core.Metadata { { "authorization", "Bearer forged.grpc.token" } }));
        Assert.Equal(Grpc.Core.StatusCode.ResourceExhausted, exhausted.StatusCode);

        // From the same address: a token the gateway accepted before is a hash lookup, and still served …
        Assert.Equal(HttpStatusCode.OK, (await honest.GetAsync("server-key")).Status);
        // … a token it has not seen is not checked until the address's budget refills (the price of not reading forged ones).
        AssertTooMany(await OcsClient.For(system, $"newcomer-{Guid.NewGuid():N}"[..16], TestTenants.TenantA, gateway: gateway).GetAsync("server-key"));
    }

    [Fact]
    public async Task An_unauthenticated_flood_from_one_address_is_429_and_health_probes_are_not_counted()
    {
        await using var gateway = await GatewayAsync("gateway-small-anonymous-budget", ("UnauthenticatedPerSource", 3));
        using var anonymous = system.Http(gateway);
        var path = OcsClient.For(system, "nobody", TestTenants.TenantA, gateway: gateway).PathOf("server-key");
        for (var i = 0; i < 3; i++)
        {
            using var refused = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var cutOff = await anonymous.GetAsync(path))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, cutOff.StatusCode);
            Assert.NotNull(cutOff.Headers.RetryAfter);
        }

        using var live = await anonymous.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var user = OcsClient.For(system, $"signed-in-{Guid.NewGuid():N}"[..16], TestTenants.TenantA, gateway: gateway);
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("server-key")).Status);
    }

    private async Task<ServiceProcess> GatewayAsync(string name, params (string Budget, int Burst)[] budgets)
    {
        var gateway = system.StartExtra("gateway", name, budgets.SelectMany(b => new KeyValuePair<string, string>[]
        {
            new($"Keyward__Gateway__RateLimits__{b.Budget}__Burst", b.Burst.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            // One a minute: nothing refills while the test runs.
            new($"Keyward__Gateway__RateLimits__{b.Budget}__PerMinute", "1"),
        }));
        await KeywardSystem.WaitUntilReadyAsync(gateway);
        return gateway;
    }

    private static Task<HttpResponseMessage> SendForgedAsync(HttpClient forger, string path, int attempt)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", $"Bearer forged.{attempt}.token");
        return forger.SendAsync(request);
    }

    private static void AssertTooMany(OcsReply reply)
    {
        Assert.True(reply.Status == HttpStatusCode.TooManyRequests, $"{reply.Status}: {reply.Text}");
        Assert.Equal(TooMany, reply.MetaMessage);
        Assert.True(int.TryParse(reply.RetryAfter, out var seconds) && seconds > 0, $"Retry-After: {reply.RetryAfter}");
    }

    private static Dictionary<string, string> Csr(string user)
    {
        using var key = RSA.Create(2048);
        return new() { ["csr"] = new CertificateRequest($"CN={user}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem() };
    }
}
