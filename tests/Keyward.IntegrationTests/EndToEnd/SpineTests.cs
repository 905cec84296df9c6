using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Keyward.IntegrationTests.Infrastructure;

namespace Keyward.IntegrationTests.EndToEnd;

[Collection(SystemCollection.Name)]
public sealed class SpineTests(KeywardSystem system)
{
    [Fact]
    public async Task All_five_services_report_ready_and_the_gateway_aggregates_them()
    {
        foreach (var service in system.All)
        {
            Assert.True(await KeywardSystem.IsReadyAsync(service), $"{service.Name} is not ready");
        }

        using var http = system.Http(system.Gateway);
        var readiness = await http.GetFromJsonAsync<JsonElement>("/readyz");
        Assert.Equal("Healthy", readiness.GetProperty("status").GetString());
        var checks = readiness.GetProperty("checks");
        foreach (var backend in new[] { "certificate-authority", "keyserver", "metadata", "audit" })
        {
            Assert.Equal("Healthy", checks.GetProperty(backend).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Each_service_checks_its_own_dependencies_for_readiness()
    {
        using var http = system.Http(system.Service("keyserver"));
        var keyserver = await http.GetFromJsonAsync<JsonElement>("/readyz");
        using var caHttp = system.Http(system.Service("certificate-authority"));
        var ca = await caHttp.GetFromJsonAsync<JsonElement>("/readyz");

        Assert.Equal("Healthy", keyserver.GetProperty("checks").GetProperty("postgresql").GetProperty("status").GetString());
        Assert.Equal("Healthy", keyserver.GetProperty("checks").GetProperty("rabbitmq").GetProperty("status").GetString());
        Assert.Equal("Healthy", ca.GetProperty("checks").GetProperty("hsm").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_gRPC_health_check_through_the_gateway_with_a_dev_token_is_serving()
    {
        using var channel = system.GatewayGrpc();
        var client = new Health.HealthClient(channel);
        var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {system.Tenants.Token("alice")}" } };

        var gateway = await client.CheckAsync(new HealthCheckRequest(), headers);

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, gateway.Status);
    }

    [Theory]
    [InlineData("certificate-authority")]
    [InlineData("keyserver")]
    [InlineData("metadata")]
    [InlineData("audit")]
    public async Task A_gRPC_health_check_reaches_one_service_through_the_gateway_by_header(string service)
    {
        using var channel = system.GatewayGrpc();
        var client = new Health.HealthClient(channel);
        var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {system.Tenants.Token("alice")}" }, { "keyward-service", service } };

        var reply = await client.CheckAsync(new HealthCheckRequest(), headers);

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task A_gRPC_health_check_through_the_gateway_without_a_token_is_refused()
    {
        using var channel = system.GatewayGrpc();
        var client = new Health.HealthClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.CheckAsync(new HealthCheckRequest()));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.StartsWith("no bearer token", error.Status.Detail);
    }

    [Fact]
    public async Task A_gRPC_call_is_routed_by_proto_package_and_the_service_sees_the_caller()
    {
        using var channel = system.GatewayGrpc();
        var client = new Keyward.Keyserver.V1.Keyserver.KeyserverClient(channel);
        var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {system.Tenants.Token("carol", "user,admin")}" } };

        var reply = await client.WhoAmIAsync(new Keyward.Common.V1.WhoAmIRequest(), headers);

        Assert.Equal("keyserver", reply.Service);
        Assert.Equal(system.Tenants.DevTenant, reply.TenantId);
        Assert.Equal("carol", reply.UserId);
        Assert.Equal(["admin", "user"], reply.Roles);
    }

    [Theory]
    [InlineData("ca", "certificate-authority")]
    [InlineData("keys", "keyserver")]
    [InlineData("folders", "metadata")]
    [InlineData("audit", "audit")]
    public async Task REST_is_routed_by_prefix_and_transcoded_by_the_owning_service(string prefix, string service)
    {
        using var http = system.Http(system.Gateway, system.Tenants.Token("dave", tenant: TestTenants.TenantA));

        var reply = await http.GetFromJsonAsync<JsonElement>($"/v1/{prefix}/whoami");

        Assert.Equal(service, reply.GetProperty("service").GetString());
        Assert.Equal(TestTenants.TenantA, reply.GetProperty("tenantId").GetString());
        Assert.Equal("dave", reply.GetProperty("userId").GetString());
    }

    public static TheoryData<string, string> RefusedTokens => new()
    {
        { "none", "no bearer token" },
        { "garbage", "the bearer token is not a well-formed JWT" },
        { "expired", "the token expired at " },
        { "unknown-tenant", "unknown tenant 'tenant-z'" },
        { "bad-signature", "the token signature does not verify with the keys of tenant 'tenant-a'" },
    };

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task A_refused_token_gets_401_with_a_clear_message_and_nothing_reaches_a_service(string kind, string message)
    {
        var marker = Guid.NewGuid().ToString("N");
        using var http = system.Http(system.Gateway, TokenOfKind(kind));

        using var response = await http.GetAsync($"/v1/keys/{marker}");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith(message, body.GetProperty("message").GetString());
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
        await AssertNeverLoggedAsync(system.Replicas("keyserver"), marker);
    }

    [Fact]
    public async Task A_valid_token_does_reach_the_service_behind_the_gateway()
    {
        // The control for the test above: the same kind of request with a good token is seen by the keyserver.
        var marker = Guid.NewGuid().ToString("N");
        using var http = system.Http(system.Gateway, system.Tenants.Token("erin"));

        using var response = await http.GetAsync($"/v1/keys/{marker}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await WaitForLogAsync(system.Replicas("keyserver"), marker);
    }

    [Theory]
    [InlineData("certificate-authority")]
    [InlineData("keyserver")]
    [InlineData("metadata")]
    [InlineData("audit")]
    public async Task Every_service_checks_the_token_itself_when_called_directly(string service)
    {
        var target = system.Service(service);
        var prefix = service switch { "certificate-authority" => "ca", "keyserver" => "keys", "metadata" => "folders", _ => "audit" };
        using var anonymous = system.Http(target);
        using var forged = system.Http(target, TokenOfKind("bad-signature"));
        using var valid = system.Http(target, system.Tenants.Token("grace", tenant: TestTenants.TenantB));

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/v1/{prefix}/whoami")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync($"/v1/{prefix}/whoami")).StatusCode);
        var reply = await valid.GetFromJsonAsync<JsonElement>($"/v1/{prefix}/whoami");
        Assert.Equal(TestTenants.TenantB, reply.GetProperty("tenantId").GetString());
    }

    [Fact]
    public async Task The_token_script_prints_a_token_the_system_accepts()
    {
        var script = Path.Combine(system.Stack.RepositoryRoot, "scripts", "token");
        var start = new ProcessStartInfo(script, ["--user", "frank", "--roles", "user,auditor"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var token = (await process.StandardOutput.ReadToEndAsync()).Trim();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync());

        using var http = system.Http(system.Gateway, token);
        var reply = await http.GetFromJsonAsync<JsonElement>("/v1/audit/whoami");

        Assert.Equal("frank", reply.GetProperty("userId").GetString());
        Assert.Equal(2, reply.GetProperty("roles").GetArrayLength());
    }

    private string? TokenOfKind(string kind) => kind switch
    {
        "none" => null,
        "garbage" => "garbage",
        "expired" => system.Tenants.Token("alice", lifetime: TimeSpan.FromMinutes(-10)),
        "unknown-tenant" => ForgeTenant(system.Tenants.Token("alice", tenant: TestTenants.TenantA), "tenant-z"),
        "bad-signature" => ForgeTenant(system.Tenants.Token("alice", tenant: TestTenants.TenantA), TestTenants.TenantA, "mallory"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    // Rewrites the payload of a signed token (tenant, and optionally subject), keeping the old signature.
    private static string ForgeTenant(string token, string tenant, string? subject = null)
    {
        var parts = token.Split('.');
        var payload = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(parts[1]))!;
        var forged = payload.ToDictionary(p => p.Key, p => (object)p.Value);
        forged["tenant"] = tenant;
        if (subject is not null)
        {
            forged["sub"] = subject;
        }

        return $"{parts[0]}.{Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(JsonSerializer.Serialize(forged))}.{parts[2]}";
    }

    /// <summary>What every replica of a service logged (a request goes to any one of them).</summary>
    private static string Logs(IEnumerable<ServiceProcess> replicas) => string.Concat(replicas.Select(r => r.ReadLog()));

    private static async Task WaitForLogAsync(IReadOnlyList<ServiceProcess> replicas, string marker)
    {
        for (var i = 0; i < 40 && !Logs(replicas).Contains(marker); i++)
        {
            await Task.Delay(100);
        }

        Assert.Contains(marker, Logs(replicas));
    }

    private static async Task AssertNeverLoggedAsync(IReadOnlyList<ServiceProcess> replicas, string marker)
    {
        // Request logs are written when a response completes; give a stray request time to show up.
        await Task.Delay(300);
        Assert.DoesNotContain(marker, Logs(replicas));
    }
}
