using System.Text;
using Keyward.Gateway.Core;
using Keyward.UnitTests.Metadata;

namespace Keyward.UnitTests.Gateway;

/// <summary>The front door's pure rules: which tenant a host is, what a credential is, and how refused logins are throttled.</summary>
public sealed class FrontDoorTests
{
    private static string Basic(string login, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{login}:{password}"));

    [Theory]
    [InlineData("Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln", null, CredentialKind.KeywardToken, null)]
    [InlineData("Bearer 8kEjT4vQ0nW2mZ7yR5pL1xH6cB3sD9fG4hJ2kL5zX8vC1nM7qW0eR3tY6uI9oP2a", null, CredentialKind.Bearer, null)]
    [InlineData(null, "nc_session_id=abc; oc_sessionPassphrase=x", CredentialKind.Session, null)]
    [InlineData(null, null, CredentialKind.None, null)]
    [InlineData("Digest username=alice", null, CredentialKind.None, null)]
    [InlineData("Basic !!!not-base64", null, CredentialKind.Basic, null)]
    public void Credentials_are_told_apart(string? authorization, string? cookie, CredentialKind kind, string? login) =>
        Assert.Equal((kind, login), NextcloudCredentials.Classify(authorization, cookie));

    [Fact]
    public void Basic_names_its_login_even_with_a_colon_in_the_password() =>
        Assert.Equal((CredentialKind.Basic, "alice@example.org"), NextcloudCredentials.Classify(Basic("alice@example.org", "a:b:c"), null));

    [Fact]
    public void Hosts_find_their_tenant_whatever_their_case_and_a_host_cannot_serve_two_tenants()
    {
        var options = new NextcloudOptions { BaseUrl = "https://cloud.example.org/nextcloud", Hosts = ["cloud.example.org", "files.example.org"], DelegationKeyFile = "/k.pem" };
        var tenants = new FrontDoorTenants([("acme", options)]);

        Assert.True(tenants.TryGetByHost("Cloud.Example.org", out var found));
        Assert.Equal("acme", found.TenantId);
        Assert.Equal("https://cloud.example.org/nextcloud/", found.BaseUrl.ToString());
        Assert.False(tenants.TryGetByHost("keyward.example.org", out _));
        var clash = Assert.Throws<InvalidOperationException>(() => new FrontDoorTenants([("acme", options), ("other", options)]));
        Assert.Contains("two tenants", clash.Message);
    }

    [Theory]
    [InlineData("ftp://cloud.example.org", "cloud.example.org", "/k.pem", "BaseUrl")]
    [InlineData("cloud.example.org", "cloud.example.org", "/k.pem", "BaseUrl")]
    [InlineData("https://cloud.example.org", null, "/k.pem", "Hosts")]
    [InlineData("https://cloud.example.org", "cloud.example.org", "", "DelegationKeyFile")]
    public void A_front_door_without_an_instance_hosts_or_key_does_not_start(string baseUrl, string? host, string keyFile, string named)
    {
        var options = new NextcloudOptions { BaseUrl = baseUrl, Hosts = host is null ? [] : [host], DelegationKeyFile = keyFile };
        Assert.Contains(named, Assert.Throws<InvalidOperationException>(() => new FrontDoorTenants([("acme", options)])).Message);
    }

    [Fact]
    public void Refusals_slow_each_answer_down_doubling_up_to_the_cap_then_block_until_the_window_passes()
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2026-12-03T10:00:00Z"));
        var throttle = new LoginThrottle(new LoginThrottleOptions { MaxAttempts = 4, Window = TimeSpan.FromMinutes(30), BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(500) }, clock);

        Assert.Equal(TimeSpan.Zero, throttle.DelayFor(throttle.Attempts("source:192.0.2.7")));
        var delays = new List<TimeSpan>();
        for (var i = 0; i < 4; i++)
        {
            delays.Add(throttle.DelayFor(throttle.Attempts("source:192.0.2.7")));
            throttle.RecordRefusal("source:192.0.2.7");
            clock.Now += TimeSpan.FromMinutes(1);
        }

        Assert.Equal([0, 200, 400, 500], delays.Select(d => (int)d.TotalMilliseconds));
        Assert.True(throttle.IsBlocked(throttle.Attempts("source:192.0.2.7")));
        Assert.Equal(TimeSpan.FromMinutes(26), throttle.RetryAfter("source:192.0.2.7"));
        Assert.Equal(0, throttle.Attempts("source:198.51.100.1"));

        clock.Now += TimeSpan.FromMinutes(26);
        Assert.False(throttle.IsBlocked(throttle.Attempts("source:192.0.2.7")));
        Assert.Equal(3, throttle.Attempts("source:192.0.2.7"));
    }
}
