using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Keyward.UnitTests.Common.Auth;

public sealed class TenantTokenValidatorTests
{
    private static readonly TestTenant Acme = new("acme");
    private static readonly TestTenant Globex = new("globex", ec: true);
    private readonly Keyward.Common.Auth.TenantTokenValidator _validator = TestTenant.ValidatorFor(Acme, Globex);

    [Fact]
    public async Task A_token_signed_by_the_tenant_key_gives_tenant_user_and_roles()
    {
        var check = await _validator.ValidateAsync(Acme.Token(user: "alice", roles: ["user", "auditor"]));

        Assert.True(check.IsValid, check.Error);
        Assert.Equal("acme", check.Tenant!.TenantId);
        Assert.Equal("alice", check.Tenant.UserId);
        Assert.Equal(["auditor", "user"], check.Tenant.Roles.Order());
        Assert.True(check.Tenant.IsAuditor);
        Assert.False(check.Tenant.IsAdmin);
    }

    [Fact]
    public async Task A_remembered_token_does_not_let_a_copy_with_one_byte_changed_in()
    {
        var token = Acme.Token(user: "alice", roles: ["user"]);
        Assert.True((await _validator.ValidateAsync(token)).IsValid);
        Assert.True((await _validator.ValidateAsync(token)).IsValid, "the same token again (now from the cache)");

        // A character inside the signature changed (not the last, whose low bits are padding): still a well-formed JWT.
        var at = token.Length - 10;
        var tampered = token[..at] + (token[at] == 'A' ? 'B' : 'A') + token[(at + 1)..];
        var check = await _validator.ValidateAsync(tampered);

        Assert.False(check.IsValid);
        Assert.Equal("the token signature does not verify with the keys of tenant 'acme'", check.Error);
    }

    [Fact]
    public async Task A_token_is_remembered_no_longer_than_it_is_valid()
    {
        var check = await _validator.ValidateAsync(Acme.Token(expires: DateTime.UtcNow.AddMinutes(5)));

        Assert.True(check.IsValid, check.Error);
        Assert.InRange(check.Expires!.Value, DateTimeOffset.UtcNow.AddMinutes(4), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task An_ES256_token_of_an_EC_tenant_is_accepted()
    {
        var check = await _validator.ValidateAsync(Globex.Token(user: "bob"));

        Assert.True(check.IsValid, check.Error);
        Assert.Equal("globex", check.Tenant!.TenantId);
    }

    [Fact]
    public async Task A_token_of_one_tenant_signed_with_another_tenants_key_is_refused()
    {
        var forged = Acme.Token(signWith: new TestTenant("acme").SigningCredentials);

        var check = await _validator.ValidateAsync(forged);

        Assert.False(check.IsValid);
        Assert.Equal("the token signature does not verify with the keys of tenant 'acme'", check.Error);
    }

    [Fact]
    public async Task A_token_claiming_another_tenant_is_checked_against_that_tenants_keys()
    {
        var check = await _validator.ValidateAsync(Acme.Token(tenantClaim: "globex", issuer: Globex.Issuer));

        Assert.False(check.IsValid);
        Assert.Contains("tenant 'globex'", check.Error);
    }

    [Fact]
    public async Task An_unknown_tenant_is_refused_by_name()
    {
        var check = await _validator.ValidateAsync(new TestTenant("initech").Token());

        Assert.Equal("unknown tenant 'initech'", check.Error);
    }

    [Fact]
    public async Task An_unknown_tenant_name_is_echoed_only_in_a_safe_form()
    {
        var check = await _validator.ValidateAsync(Acme.Token(tenantClaim: "<script>alert(1)</script>"));

        Assert.Equal("unknown tenant 'scriptalert1script…'", check.Error);
    }

    [Fact]
    public async Task A_token_without_a_tenant_claim_is_refused()
    {
        var check = await _validator.ValidateAsync(Acme.Token(tenantClaim: ""));

        Assert.Equal("the token carries no 'tenant' claim", check.Error);
    }

    [Fact]
    public async Task A_token_without_a_subject_is_refused()
    {
        var check = await _validator.ValidateAsync(Acme.Token(user: ""));

        Assert.Equal("the token carries no 'sub' claim (the user id)", check.Error);
    }

    [Fact]
    public async Task An_expired_token_is_refused_with_its_expiry()
    {
        var expires = DateTime.UtcNow.AddHours(-2);

        var check = await _validator.ValidateAsync(Acme.Token(expires: expires));

        Assert.False(check.IsValid);
        Assert.StartsWith("the token expired at ", check.Error);
    }

    [Fact]
    public async Task A_token_from_the_future_is_refused()
    {
        var check = await _validator.ValidateAsync(Acme.Token(notBefore: DateTime.UtcNow.AddHours(1), expires: DateTime.UtcNow.AddHours(2)));

        Assert.StartsWith("the token is not valid before ", check.Error);
    }

    [Fact]
    public async Task A_token_with_the_wrong_issuer_is_refused()
    {
        var check = await _validator.ValidateAsync(Acme.Token(issuer: "https://elsewhere.example"));

        Assert.Equal("the token issuer is not the issuer of tenant 'acme'", check.Error);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused()
    {
        var check = await _validator.ValidateAsync(Acme.Token(audience: "nextcloud"));

        Assert.Equal("the token audience must be 'keyward'", check.Error);
    }

    [Fact]
    public async Task A_symmetric_HS256_token_is_refused_even_with_a_known_secret()
    {
        // Algorithm confusion: an HMAC "signed" with the public key must never pass.
        var hmac = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Acme.PublicKeyPem)), SecurityAlgorithms.HmacSha256);

        var check = await _validator.ValidateAsync(Acme.Token(signWith: hmac));

        Assert.False(check.IsValid);
    }

    [Fact]
    public async Task An_unsigned_token_is_refused()
    {
        var parts = Acme.Token().Split('.');
        var header = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}");

        var check = await _validator.ValidateAsync($"{header}.{parts[1]}.");

        Assert.False(check.IsValid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("a.b.c")]
    public async Task Garbage_is_not_a_well_formed_JWT(string token)
    {
        var check = await _validator.ValidateAsync(token);

        Assert.Equal("the bearer token is not a well-formed JWT", check.Error);
    }

    [Fact]
    public async Task A_tampered_payload_breaks_the_signature()
    {
        var parts = Acme.Token(user: "alice").Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]).Replace("\"alice\"", "\"admin\"");

        var check = await _validator.ValidateAsync($"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}");

        Assert.Equal("the token signature does not verify with the keys of tenant 'acme'", check.Error);
    }
}

public sealed class ServiceIdentityTests
{
    private static readonly TestTenant Acme = new("acme");

    [Fact]
    public async Task A_service_token_is_accepted_for_a_known_tenant_with_the_service_role_only()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var identity = new Keyward.Common.Auth.ServiceIdentityOptions { SigningKeys = [key.ExportSubjectPublicKeyInfoPem()], PrivateKey = key.ExportPkcs8PrivateKeyPem() };
        var options = new Keyward.Common.Auth.TenantRegistryOptions();
        options.Tenants["acme"] = Acme.Options;
        var validator = new Keyward.Common.Auth.TenantTokenValidator(Keyward.Common.Auth.TenantRegistry.FromOptions(options), identity);
        var tokens = new Keyward.Common.Auth.ServiceTokens(identity, "audit");

        var accepted = await validator.ValidateAsync(tokens.For("acme"));
        var unknown = await validator.ValidateAsync(tokens.For("initech"));

        Assert.True(accepted.IsValid, accepted.Error);
        Assert.Equal(["service"], accepted.Tenant!.Roles);
        Assert.Equal("service:audit", accepted.Tenant.UserId);
        Assert.False(unknown.IsValid);
    }

    [Fact]
    public async Task A_tenant_cannot_give_its_users_the_service_role()
    {
        var validator = TestTenant.ValidatorFor(Acme);

        var check = await validator.ValidateAsync(Acme.Token(roles: ["user", "service"]));

        Assert.True(check.IsValid);
        Assert.Equal(["user"], check.Tenant!.Roles);
    }
}
