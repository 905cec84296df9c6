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

    /// <summary>A tenant whose audit chain tests tamper with; nothing else uses it.</summary>
    public const string TenantC = "tenant-c";

    /// <summary>A tenant with no users: the tests that have the CA sign made-up tree heads use its keys log, which nothing else writes.</summary>
    public const string TenantD = "tenant-d";

    /// <summary>A tenant whose audit log one test rewinds for good (after it, the CA refuses to sign that log).</summary>
    public const string TenantE = "tenant-e";

    /// <summary>
    /// A tenant whose users come through its Nextcloud instance (the stand-in) and the gateway's front door: besides its
    /// operator key it trusts the front door's delegation key (<see cref="DelegationKeyPem"/>).
    /// </summary>
    public const string TenantF = "tenant-f";

    private readonly Dictionary<string, (string Issuer, SigningCredentials Credentials, string PublicKeyPem)> _tenants = new();

    private readonly ECDsa _delegationKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The private key a front-door gateway of <see cref="TenantF"/> signs its callers' tokens with.</summary>
    public string DelegationKeyPem => _delegationKey.ExportPkcs8PrivateKeyPem();

    public TestTenants(StackSettings stack)
    {
        DevTenant = stack.DevTenant;
        var devKey = RSA.Create();
        devKey.ImportFromPem(File.ReadAllText(stack.DevJwtPrivateKey));
        _tenants[stack.DevTenant] = (stack.DevIssuer, new SigningCredentials(new RsaSecurityKey(devKey), SecurityAlgorithms.RsaSha256), File.ReadAllText(stack.DevJwtPublicKey));
        foreach (var id in new[] { TenantA, TenantB, TenantC, TenantD, TenantE, TenantF })
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            _tenants[id] = ($"https://{id}.test", new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256), key.ExportSubjectPublicKeyInfoPem());
        }
    }

    public string DevTenant { get; }

    private readonly ECDsa _serviceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>Settings that only the audit service gets: the private key it mints service tokens with.</summary>
    public IEnumerable<KeyValuePair<string, string>> ServiceMinterConfiguration() =>
        [KeyValuePair.Create("Keyward__ServiceIdentity__PrivateKey", _serviceKey.ExportPkcs8PrivateKeyPem())];

    /// <summary>A token of the deployment's service identity for a tenant, as the audit service makes them.</summary>
    public string ServiceToken(string tenant)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "keyward-services",
            Audience = "keyward",
            Claims = new Dictionary<string, object> { ["sub"] = "service:test", ["tenant"] = tenant, ["roles"] = new[] { "service" } },
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(_serviceKey), SecurityAlgorithms.EcdsaSha256),
        });
    }

    /// <summary>Configuration entries that register every test tenant with a service.</summary>
    public IEnumerable<KeyValuePair<string, string>> Configuration() => _tenants.SelectMany(t => new[]
    {
        KeyValuePair.Create($"Keyward__Tenants__{t.Key}__Issuer", t.Value.Issuer),
        KeyValuePair.Create($"Keyward__Tenants__{t.Key}__SigningKeys__0", t.Value.PublicKeyPem),
    }).Append(KeyValuePair.Create($"Keyward__Tenants__{TenantF}__SigningKeys__1", _delegationKey.ExportSubjectPublicKeyInfoPem()))
      .Append(KeyValuePair.Create("Keyward__ServiceIdentity__SigningKeys__0", _serviceKey.ExportSubjectPublicKeyInfoPem()));

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

/// <summary>The witness the system under test is configured to accept cosignatures from (Keyward:Transparency:Witnesses).</summary>
public static class TestWitness
{
    public static Keyward.Transparency.Cosigner Cosigner { get; } = new("witness.test/w1", SHA256.HashData("keyward test witness"u8.ToArray()));
}
