using System.Security.Claims;

namespace Keyward.Common.Auth;

/// <summary>Who is calling: the tenant (one Nextcloud instance), the user and the user's roles.</summary>
public sealed record TenantContext(string TenantId, string UserId, IReadOnlySet<string> Roles)
{
    public const string TenantClaim = "tenant";
    public const string SubjectClaim = "sub";
    public const string RolesClaim = "roles";

    public bool IsInRole(string role) => Roles.Contains(role);

    public bool IsAdmin => IsInRole(KeywardRoles.Admin);

    public bool IsAuditor => IsInRole(KeywardRoles.Auditor);

    public ClaimsPrincipal ToPrincipal(string authenticationType)
    {
        var claims = new List<Claim> { new(SubjectClaim, UserId), new(TenantClaim, TenantId) };
        claims.AddRange(Roles.Select(role => new Claim(RolesClaim, role)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType, SubjectClaim, RolesClaim));
    }

    /// <summary>Reads the context back from a principal made by <see cref="ToPrincipal"/>.</summary>
    public static TenantContext FromPrincipal(ClaimsPrincipal? principal)
    {
        if (principal?.Identity?.IsAuthenticated != true)
        {
            throw new InvalidOperationException("The request is not authenticated; TenantContext is only available behind authorization.");
        }

        var tenant = principal.FindFirstValue(TenantClaim);
        var user = principal.FindFirstValue(SubjectClaim);
        if (string.IsNullOrEmpty(tenant) || string.IsNullOrEmpty(user))
        {
            throw new InvalidOperationException("The authenticated principal carries no tenant or subject claim.");
        }

        var roles = principal.FindAll(RolesClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return new TenantContext(tenant, user, roles);
    }
}

public static class KeywardRoles
{
    public const string User = "user";
    public const string Admin = "admin";
    public const string Auditor = "auditor";

    /// <summary>The tenant's Nextcloud instance, reporting its public link shares to Keyward.</summary>
    public const string Instance = "instance";

    /// <summary>Keyward services acting for a tenant (e.g. the audit service having checkpoints signed).</summary>
    public const string Service = "service";
}
