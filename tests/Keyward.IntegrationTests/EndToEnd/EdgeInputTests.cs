using System.Net;
using System.Text;
using Grpc.Core;
using Keyward.IntegrationTests.Infrastructure;
using Keyward.Metadata.V1;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>
/// What a careless or hostile client sends to the OCS edge: bodies that cannot be read, too many fields, values
/// over the endpoint's limit, a signature Keyward would echo as a header. Every answer is the endpoint's 400
/// (or another 4xx), never a 500, and nothing is half-written.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class EdgeInputTests(KeywardSystem system)
{
    /// <summary>Every E2EE endpoint that reads parameters, with the reference's 400 for an unreadable request.</summary>
    public static TheoryData<string, string, string> ParameterRoutes => new()
    {
        { "POST", "private-key", "Invalid private key format" },
        { "POST", "public-key", "Could not parse the CSR, please make sure to submit a valid CSR" },
        { "PUT", "public-key", "Invalid public key format" },
        { "GET", "public-key", "Cannot decode userlist" },
        { "PUT", "encrypted/{id}", "The request parameters cannot be read" },
        { "POST", "meta-data/{id}", "Cannot store metadata" },
        { "PUT", "meta-data/{id}", "Cannot store metadata" },
        { "PUT", "meta-data/{id}/filedrop", "Cannot update filedrop" },
        { "POST", "lock/{id}", "The request parameters cannot be read" },
        { "DELETE", "lock/{id}", "The request parameters cannot be read" },
    };

    /// <summary>The endpoints that read no parameters: whatever the body, never a server error.</summary>
    public static TheoryData<string, string> OtherRoutes => new()
    {
        { "GET", "private-key" },
        { "DELETE", "private-key" },
        { "DELETE", "public-key" },
        { "GET", "server-key" },
        { "DELETE", "encrypted/{id}" },
        { "GET", "meta-data/{id}" },
        { "DELETE", "meta-data/{id}" },
    };

    public static TheoryData<string> UnreadableBodies => new() { "nul", "multipart-without-boundary", "1025-fields" };

    [Theory]
    [MemberData(nameof(ParameterRoutes))]
    public async Task An_unreadable_body_is_the_endpoints_400_on_both_api_versions(string method, string route, string message)
    {
        foreach (var api in new[] { "v1", "v2" })
        {
            foreach (var body in UnreadableBodies)
            {
                var reply = await SendAsync(method, route, api, Body(body));

                Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{method} {api}/{route} with {body}: {reply.Status} {reply.Text}");
                Assert.Equal(message, reply.MetaMessage);
            }
        }
    }

    [Theory]
    [MemberData(nameof(ParameterRoutes))]
    public async Task A_5_MiB_value_is_refused_with_a_4xx_and_over_a_key_endpoints_limit_with_its_400(string method, string route, string message)
    {
        var reply = await SendAsync(method, route, "v2", Body("5-mib-value"), expectContinue: true);

        Assert.True((int)reply.Status is >= 400 and < 500, $"{method} {route}: {reply.Status} {reply.Text}");
        if (!route.StartsWith("meta-data", StringComparison.Ordinal))
        {
            // 64 KiB is the limit of the key, flag and lock endpoints; metadata endpoints take up to 16 MiB of metadata.
            Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
            Assert.Equal(message, reply.MetaMessage);
        }
    }

    [Theory]
    [MemberData(nameof(OtherRoutes))]
    public async Task Endpoints_that_read_no_parameters_never_answer_a_server_error_whatever_the_body(string method, string route)
    {
        foreach (var body in UnreadableBodies.Append("5-mib-value"))
        {
            var reply = await SendAsync(method, route, "v2", Body(body), query: "x=%00", expectContinue: true);

            Assert.True((int)reply.Status < 500, $"{method} {route} with {body}: {reply.Status} {reply.Text}");
        }
    }

    [Fact]
    public async Task A_nul_in_the_query_string_is_the_endpoints_400()
    {
        var reply = await SendAsync("POST", "lock/{id}", "v2", content: null, query: "e2e-token=%00");

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
    }

    [Fact]
    public async Task A_signature_with_a_line_break_sent_over_grpc_is_refused_and_the_folder_stays_readable()
    {
        var user = $"sig-{Guid.NewGuid():N}"[..16];
        var folders = new E2eeFolders(OcsClient.For(system, user));
        var id = await folders.RegisterAsync();
        await folders.CommitAsync(id, E2eeFolders.Metadata(user), counter: 1);
        var committed = (await folders.GetAsync(id)).Signature;
        var token = await folders.LockedAsync(id, 2);

        using var channel = system.GatewayGrpc();
        var metadata = new MetadataService.MetadataServiceClient(channel);
        var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {system.Tenants.Token(user)}" } };
        var refused = await Assert.ThrowsAsync<RpcException>(() => metadata.UpdateMetadataAsync(new WriteMetadataRequest
        {
            FolderId = id,
            Token = token,
            Signature = "c2ln\r\nbmF0dXJl",
            Metadata = E2eeFolders.Metadata(user),
            ApiVersion = ApiVersion.V2,
        }, headers).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal("SIGNATURE_INVALID", ErrorInfoReader.Reason(refused));
        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token)).Status);

        var read = await folders.GetAsync(id);
        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.Equal(committed, read.Signature);
    }

    [Theory]
    [InlineData("c2ln\tbmF0dXJl")]
    [InlineData("not base64 at all")]
    [InlineData("c2lnbmF0dXJ")]
    public async Task A_signature_header_that_is_not_strict_base64_is_400_and_nothing_is_pending(string signature)
    {
        var user = $"sig-{Guid.NewGuid():N}"[..16];
        var folders = new E2eeFolders(OcsClient.For(system, user));
        var id = await folders.RegisterAsync();
        var token = await folders.LockedAsync(id, 1);

        var reply = await folders.CreateAsync(id, token, E2eeFolders.Metadata(user), signature);

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("x-nc-e2ee-signature is not valid base64", reply.DataMessage);
        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await folders.GetAsync(id)).Status);
    }

    private static HttpContent Body(string kind) => kind switch
    {
        "nul" => new StringContent("x=%00&privateKey=%00&csr=%00&metaData=%00&filedrop=%00", Encoding.ASCII, "application/x-www-form-urlencoded"),
        "multipart-without-boundary" => new StringContent("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n", Encoding.ASCII, "multipart/form-data"),
        "1025-fields" => new StringContent(string.Join('&', Enumerable.Range(0, 1025).Select(i => $"f{i}=1")), Encoding.ASCII, "application/x-www-form-urlencoded"),
        "5-mib-value" => new StringContent("x=" + new string('a', 5 * 1024 * 1024), Encoding.ASCII, "application/x-www-form-urlencoded"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// With <paramref name="expectContinue"/> the body waits for the server's go-ahead, as a client sending a large
    /// body should: an endpoint that refuses it by its length answers at once instead of resetting the upload.
    /// </summary>
    private async Task<OcsReply> SendAsync(string method, string route, string api, HttpContent? content, string? query = null, bool expectContinue = false)
    {
        var ocs = OcsClient.For(system, "edge-user", api: api);
        var uri = ocs.PathOf(route.Replace("{id}", E2eeFolders.NewFolderId())) + (query is null ? "" : "?" + query);
        using var request = new HttpRequestMessage(new HttpMethod(method), uri) { Content = content };
        request.Headers.ExpectContinue = expectContinue;
        return await ocs.SendAsync(request);
    }
}

/// <summary>The client address in the audit trail: X-Forwarded-For counts only when a configured proxy sends it.</summary>
[Collection(SystemCollection.Name)]
public sealed class ForwardedForTests(KeywardSystem system)
{
    private static readonly string Blob = $"{Convert.ToBase64String(new byte[48])}|{Convert.ToBase64String(new byte[12])}|{Convert.ToBase64String(new byte[40])}";
    private const string ClaimedAddress = "203.0.113.77";

    [Fact]
    public async Task A_caller_that_is_no_known_proxy_cannot_write_its_own_address_into_the_audit_trail()
    {
        // This gateway trusts one proxy, which is not the test: the header is ignored and the real peer recorded.
        await using var gateway = system.StartExtra("gateway", "gateway-untrusted-forwarder", [new("Keyward__ForwardedHeaders__KnownProxies__0", "192.0.2.1")]);
        await KeywardSystem.WaitUntilReadyAsync(gateway);
        var spoofer = $"xff-{Guid.NewGuid():N}"[..16];
        await StoreKeyAsync(gateway, spoofer);

        // The default gateway trusts loopback (where a local proxy would run): there the header is taken.
        var proxied = $"xff-{Guid.NewGuid():N}"[..16];
        await StoreKeyAsync(system.Gateway, proxied);

        var auditor = AuditTrailClient.For(system, TestTenants.TenantA);
        var spoofed = Assert.Single(await auditor.WaitForAsync($"actor={spoofer}&action=keys.private_key.stored", 1));
        var forwarded = Assert.Single(await auditor.WaitForAsync($"actor={proxied}&action=keys.private_key.stored", 1));
        Assert.DoesNotContain(ClaimedAddress, spoofed.GetProperty("event").GetString());
        Assert.Contains("\"clientAddress\":\"127.0.0.1\"", spoofed.GetProperty("event").GetString());
        Assert.Contains($"\"clientAddress\":\"{ClaimedAddress}\"", forwarded.GetProperty("event").GetString());
    }

    private async Task StoreKeyAsync(ServiceProcess gateway, string user)
    {
        var ocs = OcsClient.For(system, user, TestTenants.TenantA, gateway: gateway);
        var reply = await ocs.SendAsync(HttpMethod.Post, "private-key", new Dictionary<string, string> { ["privateKey"] = Blob }, headers: new Dictionary<string, string> { ["X-Forwarded-For"] = ClaimedAddress });
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
    }
}

/// <summary>A service that does not answer in time: the gateway's call deadline turns it into 504, not a hung request.</summary>
[Collection(SystemCollection.Name)]
public sealed class DeadlineTests(KeywardSystem system)
{
    [Fact]
    public async Task A_call_past_the_gateways_deadline_is_504_with_a_message()
    {
        await using var gateway = system.StartExtra("gateway", "gateway-impatient", [new("Keyward__Grpc__CallTimeout", "00:00:00.0001")]);
        await KeywardSystem.WaitUntilReadyAsync(gateway);
        var reply = await OcsClient.For(system, "impatient", TestTenants.TenantA, gateway: gateway).GetAsync("server-key");

        Assert.True(reply.Status == HttpStatusCode.GatewayTimeout, $"{reply.Status}: {reply.Text}");
        Assert.Equal("The service did not answer in time, try again later", reply.MetaMessage);
    }
}

/// <summary>A service that is not there at all: REST callers through the gateway are told to come back, as for any outage.</summary>
[Collection(SystemCollection.Name)]
public sealed class AbsentServiceTests(KeywardSystem system)
{
    [Fact]
    public async Task REST_to_a_service_that_cannot_be_reached_is_503_with_retry_after()
    {
        // Port 9 (discard) on loopback: nothing listens there.
        await using var gateway = system.StartExtra("gateway", "gateway-without-audit", [new("Keyward__Services__audit", "http://127.0.0.1:9")]);
        using var http = system.Http(gateway, system.Tenants.Token("auditor-x", "user,auditor", TestTenants.TenantA));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var live = await http.GetAsync("/healthz");
                if (live.IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, $"the gateway did not start:\n{gateway.LogTail()}");
            await Task.Delay(250);
        }

        using var response = await http.GetAsync("/v1/audit/head");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("try again later", await response.Content.ReadAsStringAsync());
    }
}
