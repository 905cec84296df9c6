using System.Security.Cryptography;

namespace Keyward.CertificateAuthority.Core;

/// <summary>
/// A tenant's signing key as the policy sees it: a public key and a way to sign, nothing about where the
/// private half lives (the HSM in production, memory in unit tests).
/// </summary>
public abstract class TenantKey
{
    protected TenantKey(byte[] subjectPublicKeyInfo)
    {
        SubjectPublicKeyInfo = subjectPublicKeyInfo;
        KeyId = Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo));
    }

    /// <summary>SHA-256 of the SubjectPublicKeyInfo, hex.</summary>
    public string KeyId { get; }

    public byte[] SubjectPublicKeyInfo { get; }

    public string PublicKeyPem => PemEncoding.WriteString("PUBLIC KEY", SubjectPublicKeyInfo);

    /// <summary>RSA keys: PKCS#1 v1.5 over SHA-256. EC keys: ECDSA over SHA-256, DER-encoded.</summary>
    public abstract byte[] SignSha256(byte[] data);
}

/// <summary>Where tenant keys live. Keys are made on a tenant's first use and found again afterwards.</summary>
public interface ITenantKeys
{
    /// <summary>The tenant's RSA key that signs user certificates.</summary>
    KeyLookup CertificateKey(string tenantId);

    /// <summary>The tenant's EC P-256 key that signs audit checkpoints.</summary>
    KeyLookup CheckpointKey(string tenantId);
}

/// <summary>A tenant key, and whether this lookup generated it (worth an audit record).</summary>
public sealed record KeyLookup(TenantKey Key, bool GeneratedNow);
