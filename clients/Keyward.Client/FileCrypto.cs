using System.Security.Cryptography;

namespace Keyward.Client;

/// <summary>
/// Per-file encryption (reference §f): a new random 16-byte AES-128-GCM key and 16-byte nonce per version,
/// the tag appended to the body, the object stored under a random 32-hex name.
/// </summary>
public static class FileCrypto
{
    public static string NewObjectName() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static (byte[] Body, FileEntry Entry) Encrypt(ReadOnlySpan<byte> content, string filename, string mimetype)
    {
        var key = RandomNumberGenerator.GetBytes(16);
        var nonce = RandomNumberGenerator.GetBytes(16);
        var body = Aes.Encrypt(key, nonce, content);
        var tag = body[^16..];
        return (body, new FileEntry(filename, mimetype, Convert.ToBase64String(nonce), Convert.ToBase64String(tag), Convert.ToBase64String(key)));
    }

    public static byte[] Decrypt(byte[] body, FileEntry entry)
    {
        if (!body.AsSpan(body.Length - 16).SequenceEqual(Convert.FromBase64String(entry.AuthenticationTag)))
        {
            throw new CryptographicException($"the stored body of {entry.Filename} does not carry the tag its metadata names");
        }

        return Aes.Decrypt(Convert.FromBase64String(entry.Key), Convert.FromBase64String(entry.Nonce), body);
    }
}
