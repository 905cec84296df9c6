using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Keyward.Common.Auth;

/// <summary>
/// Checks a bearer token against the tenant registry: the token names its tenant, and must be signed by
/// one of that tenant's keys, carry that tenant's issuer, our audience and a valid lifetime.
/// The signature check itself is Microsoft.IdentityModel's; this class only picks the tenant and
/// turns failures into messages a caller can act on (never echoing the token).
/// </summary>
public sealed class TenantTokenValidator
{
    public const string Audience = "keyward";
    private static readonly string[] AllowedAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];

    /// <summary>How many accepted tokens a process remembers (a client sends the same token for many requests).</summary>
    public const int CachedTokens = 10_000;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    // Accepted tokens by the SHA-256 of their text, until they expire: the signature check (OpenSSL, about a fifth
    // of the CPU of a cheap request) runs once per token, not once per request. The key covers every byte of the
    // token, so a changed token is checked afresh; refusals are never cached, so they are always re-explained.
    private readonly MemoryCache _accepted = new(new MemoryCacheOptions { SizeLimit = CachedTokens });
    private readonly Dictionary<string, TokenValidationParameters> _parametersByTenant;
    private readonly TokenValidationParameters? _serviceParameters;
    private readonly string? _serviceIssuer;

    public TenantTokenValidator(TenantRegistry registry, ServiceIdentityOptions? serviceIdentity = null)
    {
        var serviceKeys = serviceIdentity is null
            ? []
            : serviceIdentity.SigningKeys.Concat(serviceIdentity.SigningKeyFiles.Where(File.Exists).Select(File.ReadAllText))
                .Select(pem => TenantRegistry.ParsePublicKey("service identity", pem)).ToList();
        if (serviceKeys.Count > 0)
        {
            _serviceIssuer = serviceIdentity!.Issuer;
            _serviceParameters = Parameters(_serviceIssuer, serviceKeys);
        }

        _parametersByTenant = registry.TenantIds.ToDictionary(id => id, id =>
        {
            registry.TryGet(id, out var tenant);
            return Parameters(tenant.Issuer, tenant.SigningKeys);
        }, StringComparer.Ordinal);
    }

    private static TokenValidationParameters Parameters(string issuer, IEnumerable<SecurityKey> keys) => new()
    {
        ValidIssuer = issuer,
        ValidAudience = Audience,
        IssuerSigningKeys = keys,
        ValidAlgorithms = AllowedAlgorithms,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = TenantContext.SubjectClaim,
        RoleClaimType = TenantContext.RolesClaim,
    };

    /// <summary>Whether this token was accepted before and has not expired: a hash lookup, no signature check.</summary>
    public bool IsKnownGood(string token) => _accepted.TryGetValue(CacheKey(token), out _);

    public async Task<TokenCheck> ValidateAsync(string token)
    {
        var key = CacheKey(token);
        if (_accepted.TryGetValue(key, out TenantContext? known))
        {
            return TokenCheck.Accepted(known!);
        }

        var check = await CheckAsync(token);
        if (check is { IsValid: true, Expires: { } expires } && expires > DateTimeOffset.UtcNow)
        {
            _accepted.Set(key, check.Tenant, new MemoryCacheEntryOptions { AbsoluteExpiration = expires, Size = 1 });
        }

        return check;
    }

    private static string CacheKey(string token) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private async Task<TokenCheck> CheckAsync(string token)
    {
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return TokenCheck.Refused("the bearer token is not a well-formed JWT");
        }

        if (!jwt.TryGetPayloadValue<string>(TenantContext.TenantClaim, out var tenantId) || string.IsNullOrEmpty(tenantId))
        {
            return TokenCheck.Refused("the token carries no 'tenant' claim");
        }

        if (!_parametersByTenant.TryGetValue(tenantId, out var parameters))
        {
            return TokenCheck.Refused($"unknown tenant '{Printable(tenantId)}'");
        }

        // A Keyward service acting for the tenant: its own issuer and keys, and never more than the service role.
        var isService = _serviceParameters is not null && jwt.Issuer == _serviceIssuer;
        if (isService)
        {
            parameters = _serviceParameters!;
        }

        var result = await _handler.ValidateTokenAsync(jwt, parameters);
        if (!result.IsValid)
        {
            // The tenant is known, so the refusal can go to that tenant's audit trail; the subject is unverified.
            return TokenCheck.Refused(Describe(result.Exception, tenantId)) with { ClaimedTenant = tenantId, ClaimedSubject = jwt.Subject };
        }

        var subject = jwt.Subject;
        if (string.IsNullOrEmpty(subject))
        {
            return TokenCheck.Refused("the token carries no 'sub' claim (the user id)");
        }

        var roles = isService
            ? new HashSet<string>(StringComparer.Ordinal) { KeywardRoles.Service }
            : jwt.Claims.Where(c => c.Type == TenantContext.RolesClaim)
                .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(role => role != KeywardRoles.Service)
                .ToHashSet(StringComparer.Ordinal);
        // Remembered until its 'exp' (without the clock skew the first check allowed).
        return TokenCheck.Accepted(new TenantContext(tenantId, subject, roles)) with { Expires = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) };
    }

    private static string Describe(Exception? error, string tenantId) => error switch
    {
        SecurityTokenExpiredException e => $"the token expired at {e.Expires:yyyy-MM-ddTHH:mm:ssZ}",
        SecurityTokenNotYetValidException e => $"the token is not valid before {e.NotBefore:yyyy-MM-ddTHH:mm:ssZ}",
        SecurityTokenNoExpirationException => "the token has no 'exp' claim",
        SecurityTokenInvalidAlgorithmException => "the token's signing algorithm is not allowed (use RS256 or ES256)",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException =>
            $"the token signature does not verify with the keys of tenant '{tenantId}'",
        SecurityTokenInvalidIssuerException => $"the token issuer is not the issuer of tenant '{tenantId}'",
        SecurityTokenInvalidAudienceException => $"the token audience must be '{Audience}'",
        SecurityTokenMalformedException => "the bearer token is not a well-formed JWT",
        _ => "the token is not valid",
    };

    // A tenant id from an unverified token is echoed back only in a safe, bounded form.
    private static string Printable(string value)
    {
        var clean = new string(value.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.').Take(64).ToArray());
        return clean.Length == value.Length ? clean : clean + "…";
    }
}

public sealed record TokenCheck(TenantContext? Tenant, string? Error)
{
    /// <summary>On a refusal: the known tenant the token named, if any.</summary>
    public string? ClaimedTenant { get; init; }

    /// <summary>On a refusal: the subject the token claimed (not verified).</summary>
    public string? ClaimedSubject { get; init; }

    /// <summary>When an accepted token expires.</summary>
    public DateTimeOffset? Expires { get; init; }

    public bool IsValid => Tenant is not null;

    public static TokenCheck Accepted(TenantContext tenant) => new(tenant, null);

    public static TokenCheck Refused(string error) => new(null, error);
}
