using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Keyward.Common.Auth;

/// <summary>
/// How Keyward services act for a tenant without a user (the audit service having checkpoints signed):
/// tokens from the deployment's own service issuer (<c>Keyward:ServiceIdentity</c>). They are accepted
/// for any configured tenant and only ever carry the <c>service</c> role.
/// </summary>
public sealed class ServiceIdentityOptions
{
    public const string Section = "Keyward:ServiceIdentity";

    public string Issuer { get; set; } = "keyward-services";

    /// <summary>Public keys (PEM) that verify service tokens.</summary>
    public List<string> SigningKeys { get; set; } = [];

    public List<string> SigningKeyFiles { get; set; } = [];

    /// <summary>The private key (PEM) of a service that mints tokens; only that service gets it.</summary>
    public string? PrivateKey { get; set; }

    public string? PrivateKeyFile { get; set; }
}

/// <summary>Mints short-lived service tokens for one tenant at a time.</summary>
public sealed class ServiceTokens
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    private readonly SigningCredentials? _credentials;
    private readonly string _issuer;
    private readonly string _service;
    private readonly Dictionary<string, (string Token, DateTime Expires)> _cache = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public ServiceTokens(ServiceIdentityOptions options, string service)
    {
        _issuer = options.Issuer;
        _service = service;
        var pem = options.PrivateKey ?? (options.PrivateKeyFile is { } file && File.Exists(file) ? File.ReadAllText(file) : null);
        if (pem is not null)
        {
            var key = ECDsa.Create();
            key.ImportFromPem(pem);
            _credentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256);
        }
    }

    public bool CanMint => _credentials is not null;

    /// <summary>A token for <paramref name="tenantId"/> with the service role, reused until a minute before it expires.</summary>
    public string For(string tenantId)
    {
        var credentials = _credentials ?? throw new InvalidOperationException("Keyward:ServiceIdentity:PrivateKey(File) is not configured for this service.");
        lock (_lock)
        {
            var now = DateTime.UtcNow;
            if (_cache.TryGetValue(tenantId, out var cached) && cached.Expires > now.AddMinutes(1))
            {
                return cached.Token;
            }

            var expires = now + Lifetime;
            var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = _issuer,
                Audience = TenantTokenValidator.Audience,
                Claims = new Dictionary<string, object> { ["sub"] = $"service:{_service}", ["tenant"] = tenantId, ["roles"] = new[] { KeywardRoles.Service } },
                IssuedAt = now,
                NotBefore = now.AddSeconds(-5),
                Expires = expires,
                SigningCredentials = credentials,
            });
            _cache[tenantId] = (token, expires);
            return token;
        }
    }
}
