using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Keyward.Client;

/// <summary>
/// Seals a secret to an RSA public key (a device's ephemeral key, the tenant's recovery key): a fresh
/// AES-256-GCM key encrypts the secret and RSA-OAEP-SHA256 wraps that key. Whoever relays it learns nothing.
/// </summary>
public static class KeySealing
{
    public const string Algorithm = "RSA-OAEP-256+A256GCM";

    public static string Seal(ReadOnlySpan<byte> secret, string publicKeyPem)
    {
        using var recipient = RSA.Create();
        recipient.ImportFromPem(publicKeyPem);
        var key = RandomNumberGenerator.GetBytes(32);
        var nonce = RandomNumberGenerator.GetBytes(12);
        var sealedSecret = Aes.Encrypt(key, nonce, secret);
        return new JsonObject
        {
            ["alg"] = Algorithm,
            ["key"] = Convert.ToBase64String(recipient.Encrypt(key, RSAEncryptionPadding.OaepSHA256)),
            ["nonce"] = Convert.ToBase64String(nonce),
            ["ciphertext"] = Convert.ToBase64String(sealedSecret),
        }.ToJsonString();
    }

    public static byte[] Open(string sealedText, RSA privateKey)
    {
        var sealedNode = JsonNode.Parse(sealedText) as JsonObject ?? throw new CryptographicException("not a sealed key");
        if ((string?)sealedNode["alg"] != Algorithm)
        {
            throw new CryptographicException("unknown sealing algorithm");
        }

        var key = privateKey.Decrypt(Convert.FromBase64String((string)sealedNode["key"]!), RSAEncryptionPadding.OaepSHA256);
        return Aes.Decrypt(key, Convert.FromBase64String((string)sealedNode["nonce"]!), Convert.FromBase64String((string)sealedNode["ciphertext"]!));
    }

    public static string SealPrivateKey(RSA privateKey, string publicKeyPem) => Seal(Encoding.ASCII.GetBytes(privateKey.ExportPkcs8PrivateKeyPem()), publicKeyPem);

    public static RSA OpenPrivateKey(string sealedText, RSA recipient)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(Encoding.ASCII.GetString(Open(sealedText, recipient)));
        return rsa;
    }

    public static string Fingerprint(string publicKeyPem)
    {
        using var rsa = RSA.Create();
        rsa.ImportFromPem(publicKeyPem);
        return Convert.ToHexStringLower(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()));
    }
}
