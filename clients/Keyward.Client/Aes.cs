using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;

namespace Keyward.Client;

/// <summary>
/// AES-GCM with any nonce length and a 16-byte tag appended to the ciphertext. Written on BouncyCastle
/// because .NET's AesGcm takes 12-byte nonces only, and Nextcloud's desktop client writes 16-byte ones.
/// </summary>
public static class Aes
{
    public static byte[] Encrypt(byte[] key, byte[] nonce, ReadOnlySpan<byte> plaintext)
    {
        var gcm = new GcmBlockCipher(new AesEngine());
        gcm.Init(true, new AeadParameters(new KeyParameter(key), 128, nonce));
        var output = new byte[gcm.GetOutputSize(plaintext.Length)];
        var length = gcm.ProcessBytes(plaintext.ToArray(), 0, plaintext.Length, output, 0);
        gcm.DoFinal(output, length);
        return output;
    }

    /// <exception cref="System.Security.Cryptography.CryptographicException">The key or the data is wrong (the tag does not verify).</exception>
    public static byte[] Decrypt(byte[] key, byte[] nonce, byte[] ciphertextAndTag)
    {
        var gcm = new GcmBlockCipher(new AesEngine());
        gcm.Init(false, new AeadParameters(new KeyParameter(key), 128, nonce));
        var output = new byte[gcm.GetOutputSize(ciphertextAndTag.Length)];
        try
        {
            var length = gcm.ProcessBytes(ciphertextAndTag, 0, ciphertextAndTag.Length, output, 0);
            length += gcm.DoFinal(output, length);
            return output[..length];
        }
        catch (InvalidCipherTextException e)
        {
            throw new System.Security.Cryptography.CryptographicException("AES-GCM authentication failed", e);
        }
    }
}
