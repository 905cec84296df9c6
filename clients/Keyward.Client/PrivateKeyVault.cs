using System.Security.Cryptography;
using System.Text;

namespace Keyward.Client;

/// <summary>
/// The private-key blob the server stores (reference §d): the PKCS#8 PEM, Base64-encoded once more,
/// AES-256-GCM under a key PBKDF2-derived from the mnemonic; <c>base64(ct‖tag)|base64(iv)|base64(salt)</c>.
/// </summary>
public static class PrivateKeyVault
{
    public const int Iterations = 600_000;

    // Readers try the current KDF, then the legacy ones in the order clients do.
    private static readonly (HashAlgorithmName Hash, int Iterations)[] Kdfs =
        [(HashAlgorithmName.SHA256, Iterations), (HashAlgorithmName.SHA1, 1024), (HashAlgorithmName.SHA1, 600_000)];

    public static string Encrypt(RSA privateKey, string mnemonic)
    {
        var plaintext = Encoding.ASCII.GetBytes(Convert.ToBase64String(Encoding.ASCII.GetBytes(privateKey.ExportPkcs8PrivateKeyPem())));
        var salt = RandomNumberGenerator.GetBytes(40);
        var iv = RandomNumberGenerator.GetBytes(12);
        var key = Rfc2898DeriveBytes.Pbkdf2(Mnemonics.Password(mnemonic), salt, Iterations, HashAlgorithmName.SHA256, 32);
        var sealedKey = Aes.Encrypt(key, iv, plaintext);
        return $"{Convert.ToBase64String(sealedKey)}|{Convert.ToBase64String(iv)}|{Convert.ToBase64String(salt)}";
    }

    /// <exception cref="CryptographicException">The mnemonic does not open this blob.</exception>
    public static RSA Decrypt(string blob, string mnemonic)
    {
        // Early clients separated the parts with "fA==" (Base64 of "|") instead of "|".
        var parts = blob.Contains('|', StringComparison.Ordinal) ? blob.Split('|') : blob.Split("fA==");
        if (parts.Length < 3)
        {
            throw new CryptographicException("not a private-key blob (key|iv|salt)");
        }

        var sealedKey = Convert.FromBase64String(parts[0]);
        var iv = Convert.FromBase64String(parts[1]);
        var salt = Convert.FromBase64String(parts[2]);
        var password = Mnemonics.Password(mnemonic);
        foreach (var (hash, iterations) in Kdfs)
        {
            var key = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, hash, 32);
            byte[] plaintext;
            try
            {
                plaintext = Aes.Decrypt(key, iv, sealedKey);
            }
            catch (CryptographicException)
            {
                continue;
            }

            var pem = Encoding.ASCII.GetString(Convert.FromBase64String(Encoding.ASCII.GetString(plaintext)));
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return rsa;
        }

        throw new CryptographicException("the mnemonic does not open this private key");
    }
}
