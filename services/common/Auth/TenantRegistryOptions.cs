namespace Keyward.Common.Auth;

/// <summary>
/// The tenants this deployment serves, from configuration section <c>Keyward:Tenants</c>:
/// tenant id → issuer and the public keys that sign its tokens.
/// </summary>
public sealed class TenantRegistryOptions
{
    public const string Section = "Keyward:Tenants";

    public Dictionary<string, TenantOptions> Tenants { get; } = new(StringComparer.Ordinal);
}

public sealed class TenantOptions
{
    /// <summary>The <c>iss</c> claim this tenant's tokens must carry.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>Public keys as PEM (SubjectPublicKeyInfo), RSA or EC P-256.</summary>
    public List<string> SigningKeys { get; set; } = [];

    /// <summary>Paths of PEM files with public keys (a mounted secret in Kubernetes).</summary>
    public List<string> SigningKeyFiles { get; set; } = [];
}
