using Keyward.Gateway.Api;
using Keyward.Gateway.Core;

namespace Keyward.UnitTests.Gateway;

public sealed class ProxyRoutesTests
{
    private static readonly Dictionary<string, IReadOnlyList<Uri>> Addresses =
        Backend.All.ToDictionary(b => b.Name, IReadOnlyList<Uri> (b) => [new Uri($"http://{b.Name}:8081")]);

    [Fact]
    public void Every_service_gets_a_gRPC_route_by_proto_package_and_a_REST_route_by_prefix()
    {
        var (routes, _) = ProxyRoutes.Build(Addresses);

        Assert.Contains(routes, r => r.ClusterId == "keyserver" && r.Match.Path == "/keyward.keyserver.v1.{service}/{method}");
        Assert.Contains(routes, r => r.ClusterId == "audit" && r.Match.Path == "/v1/audit/{**rest}");
        Assert.Contains(routes, r => r.ClusterId == "metadata" && r.Match.Path == "/keyward.metadata.v1.{service}/{method}");
    }

    [Fact]
    public void The_CA_is_reached_through_the_gateway_for_its_public_keys_only_never_for_a_signature()
    {
        var (routes, _) = ProxyRoutes.Build(Addresses);

        var ca = routes.Where(r => r.ClusterId == "certificate-authority" && r.Match.Headers is null).Select(r => r.Match.Path).Order().ToList();
        Assert.Equal(
        [
            "/keyward.certificate_authority.v1.CertificateAuthority/GetCheckpointKey",
            "/keyward.certificate_authority.v1.CertificateAuthority/GetServerKey",
            "/keyward.certificate_authority.v1.CertificateAuthority/WhoAmI",
            "/v1/ca/checkpoint-key",
            "/v1/ca/server-key",
            "/v1/ca/whoami",
        ], ca);
        Assert.All(routes.Where(r => r.ClusterId == "certificate-authority" && r.Match.Path!.StartsWith("/v1/", StringComparison.Ordinal)),
            r => Assert.Equal(["GET"], r.Match.Methods!));
        Assert.DoesNotContain(routes, r => r.Match.Path!.Contains("Sign", StringComparison.Ordinal) || r.Match.Path == "/v1/ca/{**rest}");
    }

    [Fact]
    public void No_route_is_open_without_a_token()
    {
        var (routes, _) = ProxyRoutes.Build(Addresses);

        Assert.All(routes, r => Assert.Equal("default", r.AuthorizationPolicy));
    }

    [Fact]
    public void Services_are_reached_over_HTTP2_only()
    {
        var (_, clusters) = ProxyRoutes.Build(Addresses);

        Assert.All(clusters, c =>
        {
            Assert.Equal(new Version(2, 0), c.HttpRequest!.Version);
            Assert.Equal(HttpVersionPolicy.RequestVersionExact, c.HttpRequest.VersionPolicy);
        });
    }

    [Fact]
    public void A_health_check_with_the_service_header_goes_to_that_service_first()
    {
        var (routes, _) = ProxyRoutes.Build(Addresses);

        var health = Assert.Single(routes, r => r.RouteId == "metadata-health");
        Assert.Equal(-1, health.Order);
        Assert.Equal("metadata", Assert.Single(health.Match.Headers!).Values![0]);
    }

    [Fact]
    public void A_missing_service_address_is_named()
    {
        var partial = Addresses.Where(a => a.Key != "audit").ToDictionary();

        var error = Assert.Throws<InvalidOperationException>(() => ProxyRoutes.Build(partial));

        Assert.Contains("Keyward:Services:audit", error.Message);
    }

    [Fact]
    public void Replicas_are_balanced_over_those_the_active_probe_finds_answering_and_one_address_needs_no_probe()
    {
        var replicated = new Dictionary<string, IReadOnlyList<Uri>>(Addresses) { ["keyserver"] = [new Uri("http://keyserver-0:8081"), new Uri("http://keyserver-1:8081")] };
        var (_, clusters) = ProxyRoutes.Build(replicated);

        var keyserver = Assert.Single(clusters, c => c.ClusterId == "keyserver");
        Assert.Equal(["http://keyserver-0:8081/", "http://keyserver-1:8081/"], keyserver.Destinations!.Values.Select(d => d.Address));
        Assert.Equal("RoundRobin", keyserver.LoadBalancingPolicy);
        Assert.True(keyserver.HealthCheck!.Active!.Enabled);
        Assert.Equal("/healthz", keyserver.HealthCheck.Active.Path);
        Assert.Null(Assert.Single(clusters, c => c.ClusterId == "metadata").HealthCheck);
    }

    [Theory]
    [InlineData("http://a:1", 1)]
    [InlineData("http://a:1; http://b:2", 2)]
    [InlineData(" http://a:1 ;;http://b:2;http://c:3 ", 3)]
    public void A_service_address_is_one_address_or_several_separated_by_semicolons(string configured, int count) =>
        Assert.Equal(count, Keyward.Common.Grpc.ServiceAddresses.Parse("keyserver", configured).Count);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("keyserver:8081")]
    [InlineData("http://a:1;ftp://b:2")]
    public void A_missing_or_unreadable_service_address_is_named(string? configured) =>
        Assert.Contains("Keyward:Services:keyserver", Assert.Throws<InvalidOperationException>(() => Keyward.Common.Grpc.ServiceAddresses.Parse("keyserver", configured)).Message);
}
