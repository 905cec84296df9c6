using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Keyward.Client;

/// <summary>
/// Reading metadata 1.x (reference §e.1), for folders written by older clients: the RSA plaintext of the
/// metadata key is the Base64 of the raw key (1.0/1.1 add one more Base64 layer); each file's "encrypted"
/// field is AES-128-GCM over the Base64 of its JSON, as "base64(ct‖tag)|base64(iv)" (older: "fA==").
/// </summary>
public static class LegacyMetadata
{
    public static byte[] UnwrapKey(string wrappedBase64, RSA privateKey)
    {
        var text = Encoding.ASCII.GetString(privateKey.Decrypt(Convert.FromBase64String(wrappedBase64), RSAEncryptionPadding.OaepSHA256));
        var once = Convert.FromBase64String(text);
        // "The old wrong way": 1.0/1.1 wrapped the Base64 of the Base64.
        return once.Length == 16 ? once : Convert.FromBase64String(Encoding.ASCII.GetString(once));
    }

    public static JsonObject OpenEntry(string encrypted, byte[] metadataKey)
    {
        var parts = encrypted.Contains('|', StringComparison.Ordinal) ? encrypted.Split('|') : encrypted.Split("fA==");
        var plain = Aes.Decrypt(metadataKey, Convert.FromBase64String(parts[1]), Convert.FromBase64String(parts[0]));
        return JsonNode.Parse(Convert.FromBase64String(Encoding.ASCII.GetString(plain)))!.AsObject();
    }
}
