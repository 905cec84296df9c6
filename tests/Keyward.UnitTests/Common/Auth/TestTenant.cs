using System.Security.Cryptography;
using Keyward.Common.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Keyward.UnitTests.Common.Auth;

/// <summary>A tenant with a fresh signing key, and a way to mint tokens for it (valid or deliberately not).</summary>
internal sealed class TestTenant
{
    public TestTenant(string id, bool ec = false)
    {
        Id = id;
        Issuer = $"https://{id}.example";
        if (ec)
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            PublicKeyPem = key.ExportSubjectPublicKeyInfoPem();
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256);
        }
        else
        {
            var key = RSA.Create(2048);
            PublicKeyPem = key.ExportSubjectPublicKeyInfoPem();
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key), SecurityAlgorithms.RsaSha256);
        }
    }

    public string Id { get; }

    public string Issuer { get; }

    public string PublicKeyPem { get; }

    public SigningCredentials SigningCredentials { get; }

    public TenantOptions Options => new() { Issuer = Issuer, SigningKeys = [PublicKeyPem] };

    public string Token(
        string user = "alice",
        string[]? roles = null,
        string? tenantClaim = null,
        string? issuer = null,
        string audience = "keyward",
        DateTime? expires = null,
        DateTime? notBefore = null,
        SigningCredentials? signWith = null)
    {
        var claims = new Dictionary<string, object> { ["roles"] = roles ?? ["user"] };
        if (tenantClaim != "")
        {
            claims["tenant"] = tenantClaim ?? Id;
        }

        if (user != "")
        {
            claims["sub"] = user;
        }

        var now = DateTime.UtcNow;
        var nbf = notBefore ?? now.AddMinutes(-1);
        var exp = expires ?? now.AddHours(1);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = nbf < exp ? nbf : exp.AddMinutes(-1),
            NotBefore = nbf < exp ? nbf : exp.AddMinutes(-1),
            Expires = exp,
            SigningCredentials = signWith ?? SigningCredentials,
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    public static TenantTokenValidator ValidatorFor(params TestTenant[] tenants)
    {
        var options = new TenantRegistryOptions();
        foreach (var tenant in tenants)
        {
            options.Tenants[tenant.Id] = tenant.Options;
        }

        return new TenantTokenValidator(TenantRegistry.FromOptions(options));
    }
}
