using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using Keyward.Client;

namespace Keyward.Metadata.Core;

/// <summary><c>Keyward:Metadata:SignaturePolicy</c>: what happens to v2 metadata whose signature does not check out.</summary>
public sealed class SignaturePolicyOptions
{
    public const string Section = "Keyward:Metadata:SignaturePolicy";
    public const string Enforce = "enforce";
    public const string AuditOnly = "audit-only";

    /// <summary><c>enforce</c>: refused (400 "Invalid metadata signature"). <c>audit-only</c>: stored, marked unverified and audited.</summary>
    public string Default { get; set; } = Enforce;

    /// <summary>Per tenant, for tenants migrating old clients.</summary>
    public Dictionary<string, string> Tenants { get; set; } = [];

    public bool Enforces(string tenantId) => (Tenants.TryGetValue(tenantId, out var policy) ? policy : Default) != AuditOnly;

    public bool IsValid => new[] { Default }.Concat(Tenants.Values).All(p => p is Enforce or AuditOnly);
}

/// <summary>The certificates Keyward holds for a tenant's users (issued by the tenant CA or stored with PUT public-key).</summary>
public interface IUserCertificates
{
    /// <summary>The user's current certificate (PEM), or null when the user has none.</summary>
    Task<string?> CertificateOfAsync(string userId, CancellationToken cancellationToken);
}

/// <summary>
/// X-NC-E2EE-SIGNATURE checked on the server (reference §e.2 "Signature"): a detached CMS SignedData over the ASCII
/// base64 of the sorted, compact outer JSON without <c>filedrop</c> (Keyward.Client's <see cref="MetadataV2.SignedBytes"/>,
/// the one definition of those bytes), made with the certificate Keyward holds for one of the folder's users. The
/// reference server stores any string ("ToDo check signature"); storing a signature no member can verify is how one
/// buggy client breaks a folder for every device.
/// </summary>
public static class MetadataSignatureCheck
{
    /// <summary>The user who signed, or why the signature is not acceptable.</summary>
    public static async Task<(string? Signer, string? Problem)> CheckAsync(string metadata, string signature, IReadOnlyCollection<string> folderUsers,
        IUserCertificates certificates, CancellationToken cancellationToken)
    {
        X509Certificate2 signer;
        try
        {
            var cms = new SignedCms(new ContentInfo(MetadataV2.SignedBytes(metadata)), detached: true);
            cms.Decode(Convert.FromBase64String(signature));
            if (cms.SignerInfos.Count != 1 || cms.SignerInfos[0].Certificate is not { } included)
            {
                return (null, "the signature must have one signer whose certificate it includes");
            }

            cms.CheckSignature(verifySignatureOnly: true);
            signer = included;
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            return (null, "the signature does not verify over this metadata");
        }

        // Nextcloud's certificates name their user in the subject CN (and the issuer CN, §i).
        var user = signer.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (string.IsNullOrEmpty(user) || !folderUsers.Contains(user))
        {
            return (null, "the signer is not one of the folder's users");
        }

        var held = await certificates.CertificateOfAsync(user, cancellationToken);
        if (held is null || !SameCertificate(held, signer))
        {
            return (null, "the signature is not made with the certificate Keyward holds for its signer");
        }

        return (user, null);
    }

    private static bool SameCertificate(string pem, X509Certificate2 signer)
    {
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(pem);
            return certificate.RawData.AsSpan().SequenceEqual(signer.RawData);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
