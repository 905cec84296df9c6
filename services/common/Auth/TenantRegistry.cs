using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Keyward.Common.Auth;

/// <summary>The tenants known to this deployment, each with its issuer and token-signing keys.</summary>
public sealed class TenantRegistry
{
    private readonly Dictionary<string, RegisteredTenant> _tenants;

    public TenantRegistry(IEnumerable<RegisteredTenant> tenants)
    {
        _tenants = tenants.ToDictionary(t => t.TenantId, StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> TenantIds => _tenants.Keys;

    public bool TryGet(string tenantId, out RegisteredTenant tenant) => _tenants.TryGetValue(tenantId, out tenant!);

    /// <summary>Builds the registry from configuration; a tenant without an issuer or keys is a configuration error.</summary>
    public static TenantRegistry FromOptions(TenantRegistryOptions options)
    {
        var tenants = new List<RegisteredTenant>();
        foreach (var (tenantId, tenant) in options.Tenants)
        {
            if (string.IsNullOrWhiteSpace(tenant.Issuer))
            {
                throw new InvalidOperationException($"Tenant '{tenantId}' has no Issuer configured.");
            }

            var pems = tenant.SigningKeys.Concat(tenant.SigningKeyFiles.Select(ReadKeyFile)).ToList();
            if (pems.Count == 0)
            {
                throw new InvalidOperationException($"Tenant '{tenantId}' has no SigningKeys or SigningKeyFiles configured.");
            }

            tenants.Add(new RegisteredTenant(tenantId, tenant.Issuer, pems.Select(pem => ParsePublicKey(tenantId, pem)).ToList()));
        }

        return new TenantRegistry(tenants);
    }

    private static string ReadKeyFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"Tenant signing key file '{path}' does not exist.");
        }

        return File.ReadAllText(path);
    }

    /// <summary>Accepts an RSA or EC public key in PEM; the key id is the SHA-256 of its SubjectPublicKeyInfo.</summary>
    public static SecurityKey ParsePublicKey(string tenantId, string pem)
    {
        try
        {
            var rsa = RSA.Create();
            try
            {
                rsa.ImportFromPem(pem);
                return new RsaSecurityKey(rsa) { KeyId = KeyId(rsa.ExportSubjectPublicKeyInfo()) };
            }
            catch (ArgumentException)
            {
                rsa.Dispose();
            }
            catch (CryptographicException)
            {
                rsa.Dispose();
            }

            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec) { KeyId = KeyId(ec.ExportSubjectPublicKeyInfo()) };
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new InvalidOperationException($"A signing key of tenant '{tenantId}' is not an RSA or EC public key in PEM.", e);
        }
    }

    public static string KeyId(byte[] spki) => Convert.ToHexStringLower(SHA256.HashData(spki));
}

public sealed record RegisteredTenant(string TenantId, string Issuer, IReadOnlyList<SecurityKey> SigningKeys);
