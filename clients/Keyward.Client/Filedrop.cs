using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keyward.Client;

/// <summary>
/// File-drop entries (reference §e.2): what an uploader without access to the folder adds: the file's entry
/// gzipped and sealed with a fresh key, that key wrapped for each user of the folder.
/// </summary>
public static class Filedrop
{
    public static (string Id, JsonObject Entry) Create(FileEntry file, IReadOnlyList<FolderUser> users)
    {
        var key = RandomNumberGenerator.GetBytes(16);
        var nonce = RandomNumberGenerator.GetBytes(16);
        var sealedEntry = Aes.Encrypt(key, nonce, MetadataV2.Gzip(JsonSerializer.SerializeToUtf8Bytes(file)));
        var entry = new JsonObject
        {
            ["ciphertext"] = Convert.ToBase64String(sealedEntry),
            ["nonce"] = Convert.ToBase64String(nonce),
            ["authenticationTag"] = Convert.ToBase64String(sealedEntry[^16..]),
            ["users"] = new JsonArray(users.Select(u =>
            {
                using var certificate = X509Certificate2.CreateFromPem(u.CertificatePem);
                using var publicKey = certificate.GetRSAPublicKey()!;
                return (JsonNode)new JsonObject { ["userId"] = u.UserId, ["encryptedFiledropKey"] = Convert.ToBase64String(publicKey.Encrypt(key, RSAEncryptionPadding.OaepSHA256)) };
            }).ToArray()),
        };
        return (FileCrypto.NewObjectName(), entry);
    }

    public static FileEntry Open(JsonObject entry, string userId, RSA privateKey)
    {
        var wrapped = entry["users"]!.AsArray().First(u => (string?)u!["userId"] == userId)!["encryptedFiledropKey"]!.GetValue<string>();
        var key = privateKey.Decrypt(Convert.FromBase64String(wrapped), RSAEncryptionPadding.OaepSHA256);
        var plain = Aes.Decrypt(key, Convert.FromBase64String(entry["nonce"]!.GetValue<string>()), Convert.FromBase64String(entry["ciphertext"]!.GetValue<string>().Split('|')[0]));
        return JsonSerializer.Deserialize<FileEntry>(MetadataV2.Gunzip(plain))!;
    }
}
