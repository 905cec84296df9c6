using System.Collections.Concurrent;
using System.Security.Cryptography;
using Keyward.Common.Auth;
using Keyward.Gateway.Core;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Keyward.Gateway.Adapters;

/// <summary>
/// Short-lived tenant tokens for callers the instance vouched for: signed with the tenant's delegation key, whose public
/// half the tenant lists among its signing keys, so the services behind the gateway check the caller as they check any
/// tenant token. Role <c>user</c> only (and <c>instance</c> for the front door's own reports to the share registry):
/// operators and auditors keep their own JWTs. One token per user and role, reused until it nears its end.
/// </summary>
public sealed class DelegatedTokens
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    private const int MaxCached = 50_000;
    private readonly Dictionary<string, (SigningCredentials Key, string Issuer)> _signers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Tenant, string User, string Role), (string Token, DateTimeOffset Expires)> _issued = new();
    private readonly TimeProvider _clock;

    public DelegatedTokens(FrontDoorTenants tenants, IConfiguration configuration, TimeProvider clock)
    {
        _clock = clock;
        foreach (var tenant in tenants.All)
        {
            var issuer = configuration[$"{TenantRegistryOptions.Section}:{tenant.TenantId}:Issuer"]
                ?? throw new InvalidOperationException($"Front-door tenant '{tenant.TenantId}' has no Issuer.");
            _signers[tenant.TenantId] = (Load(tenant), issuer);
        }
    }

    /// <summary>
    /// The front door speaking as the tenant's instance (role <c>instance</c>): it reports to the share registry what it
    /// learned from the instance itself (a share and its owner, a share the instance no longer knows).
    /// </summary>
    public string ForInstance(string tenantId) => For(tenantId, InstanceSubject, "instance");

    public const string InstanceSubject = "nextcloud-frontdoor";

    public string For(string tenantId, string userId) => For(tenantId, userId, "user");

    private string For(string tenantId, string userId, string role)
    {
        var now = _clock.GetUtcNow();
        if (_issued.TryGetValue((tenantId, userId, role), out var issued) && issued.Expires - now > Lifetime / 5)
        {
            return issued.Token;
        }

        if (_issued.Count >= MaxCached)
        {
            _issued.Clear();
        }

        var (key, issuer) = _signers[tenantId];
        var expires = now + Lifetime;
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = TenantTokenValidator.Audience,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = userId,
                [TenantContext.TenantClaim] = tenantId,
                [TenantContext.RolesClaim] = new[] { role },
            },
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = key,
        });
        _issued[(tenantId, userId, role)] = (token, expires);
        return token;
    }

    private static SigningCredentials Load(FrontDoorTenant tenant)
    {
        var path = tenant.Options.DelegationKeyFile;
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"The delegation key of front-door tenant '{tenant.TenantId}' ({path}) does not exist.");
        }

        var pem = File.ReadAllText(path);
        try
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = TenantRegistry.KeyId(ec.ExportSubjectPublicKeyInfo()) }, SecurityAlgorithms.EcdsaSha256);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = TenantRegistry.KeyId(rsa.ExportSubjectPublicKeyInfo()) }, SecurityAlgorithms.RsaSha256);
        }
    }
}
