using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>
/// The tenants the system under test knows: the stack's dev tenant (its key made by scripts/stack up)
/// and two more made here, so tests can cross tenant lines. Mints tokens for any of them.
/// </summary>
public sealed class TestTenants
{
    public const string TenantA = "tenant-a";
    public const string TenantB = "tenant-b";

    private readonly Dictionary<string, (string Issuer, SigningCredentials Credentials, string PublicKeyPem)> _tenants = new();

    public TestTenants(StackSettings stack)
    {
        DevTenant = stack.DevTenant;
        var devKey = RSA.Create();
        devKey.ImportFromPem(File.ReadAllText(stack.DevJwtPrivateKey));
        _tenants[stack.DevTenant] = (stack.DevIssuer, new SigningCredentials(new RsaSecurityKey(devKey), SecurityAlgorithms.RsaSha256), File.ReadAllText(stack.DevJwtPublicKey));
        foreach (var id in new[] { TenantA, TenantB })
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            _tenants[id] = ($"https://{id}.test", new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256), key.ExportSubjectPublicKeyInfoPem());
        }
    }

    public string DevTenant { get; }

    /// <summary>Configuration entries that register every test tenant with a service.</summary>
    public IEnumerable<KeyValuePair<string, string>> Configuration() => _tenants.SelectMany(t => new[]
    {
        KeyValuePair.Create($"Keyward__Tenants__{t.Key}__Issuer", t.Value.Issuer),
        KeyValuePair.Create($"Keyward__Tenants__{t.Key}__SigningKeys__0", t.Value.PublicKeyPem),
    });

    public string Token(string user, string roles = "user", string? tenant = null, TimeSpan? lifetime = null)
    {
        var (issuer, credentials, _) = _tenants[tenant ?? DevTenant];
        var now = DateTime.UtcNow;
        var expires = now + (lifetime ?? TimeSpan.FromHours(1));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = "keyward",
            Claims = new Dictionary<string, object>
            {
                ["sub"] = user,
                ["tenant"] = tenant ?? DevTenant,
                ["roles"] = roles.Split(',', StringSplitOptions.RemoveEmptyEntries),
            },
            IssuedAt = expires < now ? expires.AddMinutes(-5) : now,
            NotBefore = expires < now ? expires.AddMinutes(-5) : now,
            Expires = expires,
            SigningCredentials = credentials,
        });
    }
}
