namespace Keyward.AuditTrail;

/// <summary>
/// The logs a tenant has, and their C2SP origin lines: <c>{prefix}/{tenant}/audit</c> for the audit trail and
/// <c>{prefix}/{tenant}/keys</c> for key transparency. The prefix (<c>Keyward:Transparency:OriginPrefix</c>) names the
/// deployment; the CA signs a checkpoint only for an origin of the caller's own tenant.
/// </summary>
public static class LogOrigins
{
    public const string AuditLog = "audit";
    public const string KeysLog = "keys";
    public const string Section = "Keyward:Transparency";
    public const string DefaultPrefix = "keyward.local";

    public static string For(string prefix, string tenantId, string log) => $"{prefix}/{tenantId}/{log}";

    public static bool IsLog(string log) => log is AuditLog or KeysLog;

    /// <summary>The tenant and log an origin names under this prefix, or null.</summary>
    public static (string TenantId, string Log)? Parse(string prefix, string origin)
    {
        if (!origin.StartsWith(prefix + "/", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = origin[(prefix.Length + 1)..].Split('/');
        return rest.Length == 2 && rest[0].Length > 0 && IsLog(rest[1]) ? (rest[0], rest[1]) : null;
    }
}

/// <summary><c>Keyward:Transparency</c>: the origin prefix shared by the audit service, the CA and the clients.</summary>
public sealed class TransparencyOptions
{
    public string OriginPrefix { get; set; } = LogOrigins.DefaultPrefix;
}
