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

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly Dictionary<string, TokenValidationParameters> _parametersByTenant;

    public TenantTokenValidator(TenantRegistry registry)
    {
        _parametersByTenant = registry.TenantIds.ToDictionary(id => id, id =>
        {
            registry.TryGet(id, out var tenant);
            return new TokenValidationParameters
            {
                ValidIssuer = tenant.Issuer,
                ValidAudience = Audience,
                IssuerSigningKeys = tenant.SigningKeys,
                ValidAlgorithms = AllowedAlgorithms,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ValidateIssuerSigningKey = true,
                ClockSkew = TimeSpan.FromSeconds(30),
                NameClaimType = TenantContext.SubjectClaim,
                RoleClaimType = TenantContext.RolesClaim,
            };
        }, StringComparer.Ordinal);
    }

    public async Task<TokenCheck> ValidateAsync(string token)
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

        var result = await _handler.ValidateTokenAsync(jwt, parameters);
        if (!result.IsValid)
        {
            return TokenCheck.Refused(Describe(result.Exception, tenantId));
        }

        var subject = jwt.Subject;
        if (string.IsNullOrEmpty(subject))
        {
            return TokenCheck.Refused("the token carries no 'sub' claim (the user id)");
        }

        var roles = jwt.Claims.Where(c => c.Type == TenantContext.RolesClaim)
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToHashSet(StringComparer.Ordinal);
        return TokenCheck.Accepted(new TenantContext(tenantId, subject, roles));
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
    public bool IsValid => Tenant is not null;

    public static TokenCheck Accepted(TenantContext tenant) => new(tenant, null);

    public static TokenCheck Refused(string error) => new(null, error);
}
