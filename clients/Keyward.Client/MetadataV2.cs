using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keyward.Client;

/// <summary>
/// Metadata v2 (reference §e.2) as Nextcloud clients write and read it: the inner JSON gzipped and sealed
/// with AES-128-GCM under the folder's metadata key, the key wrapped for every user with RSA-OAEP-SHA256,
/// and a detached CMS signature over the Base64 of the sorted, compact outer JSON without filedrop.
/// </summary>
public static class MetadataV2
{
    public const string Version = "2.0";
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] NewMetadataKey() => RandomNumberGenerator.GetBytes(16);

    public static string Checksum(byte[] metadataKey) => Convert.ToHexStringLower(SHA256.HashData(metadataKey));

    /// <summary>The outer JSON the server stores. <paramref name="users"/> is null for a sub-folder (sealed with its root's key).</summary>
    public static string Seal(FolderContent content, byte[] metadataKey, IReadOnlyList<FolderUser>? users, JsonObject? filedrop = null)
    {
        var nonce = RandomNumberGenerator.GetBytes(16);
        var sealedContent = Aes.Encrypt(metadataKey, nonce, Gzip(JsonSerializer.SerializeToUtf8Bytes(content)));
        var outer = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["ciphertext"] = Convert.ToBase64String(sealedContent),
                ["nonce"] = Convert.ToBase64String(nonce),
                ["authenticationTag"] = Convert.ToBase64String(sealedContent[^16..]),
            },
        };
        if (users is not null)
        {
            outer["users"] = new JsonArray(users.Select(u => (JsonNode)new JsonObject
            {
                ["userId"] = u.UserId,
                ["certificate"] = u.CertificatePem,
                ["encryptedMetadataKey"] = Convert.ToBase64String(WrapFor(u.CertificatePem, metadataKey)),
            }).ToArray());
        }

        if (filedrop is not null && filedrop.Count > 0)
        {
            outer["filedrop"] = filedrop.DeepClone();
        }

        outer["version"] = Version;
        return outer.ToJsonString(Compact);
    }

    /// <summary>The folder's metadata key, unwrapped with the user's private key.</summary>
    public static byte[] UnwrapKey(string metadata, string userId, RSA privateKey)
    {
        var user = JsonNode.Parse(metadata)!["users"]?.AsArray().FirstOrDefault(u => (string?)u!["userId"] == userId)
            ?? throw new CryptographicException($"{userId} is not a user of this folder");
        return privateKey.Decrypt(Convert.FromBase64String(user["encryptedMetadataKey"]!.GetValue<string>()), RSAEncryptionPadding.OaepSHA256);
    }

    public static FolderContent Open(string metadata, byte[] metadataKey)
    {
        var inner = JsonNode.Parse(metadata)!["metadata"]!;
        // Desktop writes "ct|nonce" into ciphertext; readers take the part before '|'.
        var sealedContent = Convert.FromBase64String(inner["ciphertext"]!.GetValue<string>().Split('|')[0]);
        var nonce = Convert.FromBase64String(inner["nonce"]!.GetValue<string>());
        return JsonSerializer.Deserialize<FolderContent>(Gunzip(Aes.Decrypt(metadataKey, nonce, sealedContent)))
            ?? throw new CryptographicException("the metadata content is empty");
    }

    public static IReadOnlyList<FolderUser> Users(string metadata) =>
        JsonNode.Parse(metadata)!["users"]?.AsArray().Select(u => new FolderUser((string)u!["userId"]!, (string)u["certificate"]!)).ToList() ?? [];

    public static JsonObject? Filedrop(string metadata) => JsonNode.Parse(metadata)!["filedrop"] as JsonObject;

    /// <summary>What is signed: the ASCII of the Base64 of the sorted, compact outer JSON without filedrop.</summary>
    public static byte[] SignedBytes(string metadata)
    {
        var outer = JsonNode.Parse(metadata)!.AsObject();
        outer.Remove("filedrop");
        if (outer["users"] is JsonArray users)
        {
            foreach (var user in users.OfType<JsonObject>())
            {
                user.Remove("encryptedFiledropKey");
            }
        }

        return Encoding.ASCII.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(Sorted(outer)!.ToJsonString(Compact))));
    }

    /// <summary>The X-NC-E2EE-SIGNATURE value: Base64 of a detached CMS SignedData by the user's certificate.</summary>
    public static string Sign(string metadata, RSA privateKey, string certificatePem)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem).CopyWithPrivateKey(privateKey);
        var cms = new SignedCms(new ContentInfo(SignedBytes(metadata)), detached: true);
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, certificate)
        {
            DigestAlgorithm = new Oid("2.16.840.1.101.3.4.2.1"),
            IncludeOption = X509IncludeOption.EndCertOnly,
        };
        signer.SignedAttributes.Add(new Pkcs9SigningTime(DateTime.UtcNow));
        cms.ComputeSignature(signer);
        return Convert.ToBase64String(cms.Encode());
    }

    /// <summary>
    /// A client's checks on metadata it reads (reference §e, "Verifying"): the signature verifies with a certificate
    /// that is, byte for byte, one user's certificate in the root's users array (the signer is that user: a name inside
    /// a certificate proves nothing, anyone can write one); that certificate matches this device's pin for the user;
    /// every user's certificate was issued by the server key; the metadata key is one of the recorded checksums and
    /// no earlier checksum disappeared; the counter has not gone back.
    /// </summary>
    public static MetadataCheck Verify(string metadata, string signature, byte[] metadataKey, FolderContent content, string serverKeyPem,
        IReadOnlyList<FolderUser> rootUsers, long? lastCounter = null, IReadOnlyCollection<string>? lastChecksums = null,
        IReadOnlyDictionary<string, string>? pinnedFingerprints = null)
    {
        X509Certificate2 signerCertificate;
        try
        {
            var cms = new SignedCms(new ContentInfo(SignedBytes(metadata)), detached: true);
            cms.Decode(Convert.FromBase64String(signature));
            cms.CheckSignature(verifySignatureOnly: true);
            signerCertificate = cms.SignerInfos[0].Certificate ?? throw new CryptographicException("no signer certificate");
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            return MetadataCheck.Fail($"the signature does not verify ({e.Message})");
        }

        var signer = rootUsers.FirstOrDefault(u => IsCertificate(u.CertificatePem, signerCertificate));
        if (signer is null)
        {
            return MetadataCheck.Fail($"the signature was made with a certificate that is no user's in the folder (it names {signerCertificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false)})");
        }

        var signerId = signer.UserId;
        if (pinnedFingerprints is not null && pinnedFingerprints.TryGetValue(signerId, out var pinned) && pinned != DeviceKeys.Fingerprint(signer.CertificatePem))
        {
            return MetadataCheck.Fail($"the signer {signerId}'s certificate is not the one this device pinned for them (a changed key?)");
        }

        if (rootUsers.FirstOrDefault(u => !DeviceKeys.IsIssuedBy(u.CertificatePem, serverKeyPem)) is { } stranger)
        {
            return MetadataCheck.Fail($"the certificate of {stranger.UserId} was not issued by the server key");
        }

        if (content.KeyChecksums is { } checksums)
        {
            if (!checksums.Contains(Checksum(metadataKey)))
            {
                return MetadataCheck.Fail("the metadata key is not among the recorded key checksums");
            }

            if (lastChecksums is not null && lastChecksums.Any(c => !checksums.Contains(c)))
            {
                return MetadataCheck.Fail("a key checksum disappeared");
            }
        }

        if (lastCounter is { } last && content.Counter < last)
        {
            return MetadataCheck.Fail($"the counter went back from {last} to {content.Counter} (a rollback?)");
        }

        return MetadataCheck.Ok(signerId);
    }

    private static bool IsCertificate(string pem, X509Certificate2 certificate)
    {
        try
        {
            using var listed = X509Certificate2.CreateFromPem(pem);
            return listed.RawData.AsSpan().SequenceEqual(certificate.RawData);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>A new metadata key for a root folder, its checksum appended: sharing and unsharing both rotate.</summary>
    public static byte[] Rotate(FolderContent root)
    {
        var key = NewMetadataKey();
        root.KeyChecksums ??= [];
        root.KeyChecksums.Add(Checksum(key));
        return key;
    }

    private static byte[] WrapFor(string certificatePem, byte[] metadataKey)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using var publicKey = certificate.GetRSAPublicKey() ?? throw new CryptographicException("the certificate has no RSA key");
        return publicKey.Encrypt(metadataKey, RSAEncryptionPadding.OaepSHA256);
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    internal static byte[] Gunzip(byte[] data)
    {
        using var gzip = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };
}

public sealed record MetadataCheck(bool IsValid, string? Signer, string? Problem)
{
    public static MetadataCheck Ok(string signer) => new(true, signer, null);

    public static MetadataCheck Fail(string problem) => new(false, null, problem);
}
