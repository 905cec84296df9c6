using Keyward.Gateway.Api;
using Keyward.Gateway.Core;

namespace Keyward.UnitTests.Gateway;

public sealed class E2eeClientPolicyTests
{
    [Theory]
    [InlineData("Mozilla/5.0 (Linux) mirall/3.13.2git (build 1) (Nextcloud, debian-6.1 ClientArchitecture: x86_64 OsArchitecture: x86_64)")]
    [InlineData("Mozilla/5.0 (Windows) mirall/3.0.0")]
    [InlineData("Mozilla/5.0 (Android) Nextcloud-android/3.13.0")]
    [InlineData("Mozilla/5.0 (iOS) Nextcloud-iOS/4.9.2")]
    public void Supported_Nextcloud_clients_are_allowed(string userAgent)
    {
        Assert.True(E2eeClientPolicy.Allows(userAgent, null));
    }

    [Theory]
    [InlineData("Mozilla/5.0 (Linux) mirall/2.9.9")]
    [InlineData("Mozilla/5.0 (Android) Nextcloud-android/3.12.9")]
    [InlineData("Mozilla/5.0 (iOS) Nextcloud-iOS/3.0.4")]
    [InlineData("Mozilla/5.0 (Android) Nextcloud-android")]
    public void A_known_client_too_old_or_without_version_is_refused_even_with_the_header(string userAgent)
    {
        Assert.False(E2eeClientPolicy.Allows(userAgent, "true"));
    }

    [Fact]
    public void Any_other_client_needs_the_E2EE_header()
    {
        Assert.False(E2eeClientPolicy.Allows("curl/8.0", null));
        Assert.True(E2eeClientPolicy.Allows("curl/8.0", "true"));
        Assert.True(E2eeClientPolicy.Allows(null, "TRUE"));
    }

    [Fact]
    public void The_refusal_names_the_client_as_the_reference_does()
    {
        Assert.Equal("Client \"curl/8.0\" is not allowed to access end-to-end encrypted content.", E2eeClientPolicy.RefusalMessage("curl/8.0"));
    }

    [Theory]
    [InlineData(null, new string[0])]
    [InlineData("", new string[0])]
    [InlineData("[]", new string[0])]
    [InlineData("[\"alice\",\"bob\"]", new[] { "alice", "bob" })]
    [InlineData("[\"s:abc\", 42]", new[] { "s:abc", "42" })]
    public void The_users_parameter_is_a_JSON_array_of_ids(string? value, string[] expected)
    {
        Assert.True(OcsKeyEndpoints.TryReadUserList(value, out var users));
        Assert.Equal(expected, users);
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("{\"a\":1}")]
    [InlineData("[null]")]
    [InlineData("[\"alice\"")]
    public void Anything_else_cannot_be_decoded(string value)
    {
        Assert.False(OcsKeyEndpoints.TryReadUserList(value, out _));
    }
}
