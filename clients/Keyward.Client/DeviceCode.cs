using System.Security.Cryptography;
using System.Text;
using NBitcoin;

namespace Keyward.Client;

/// <summary>
/// The words a user compares on both devices during device-assisted enrollment: derived from the request id and the
/// new device's ephemeral public key, so if anyone (the server, a DB writer) lists another key, the approving device
/// computes other words and refuses. Six BIP-39 words are 66 bits: too many to find a second key that shows the same
/// words (8 digits would not be, since the public exponent of an RSA key can be varied cheaply).
/// </summary>
public static class DeviceCode
{
    private const int Words = 6;

    public static string For(string requestId, string ephemeralPublicKeyPem)
    {
        using var key = RSA.Create();
        key.ImportFromPem(ephemeralPublicKeyPem);
        var hash = SHA256.HashData([.. "keyward device code v1\n"u8, .. Encoding.UTF8.GetBytes(requestId), (byte)'\n', .. key.ExportSubjectPublicKeyInfo()]);
        var bits = new System.Collections.BitArray(hash.Select(ReverseBits).ToArray());
        var words = Enumerable.Range(0, Words).Select(w => Wordlist.English.GetWordAtIndex(Enumerable.Range(0, 11).Aggregate(0, (index, b) => (index << 1) | (bits[w * 11 + b] ? 1 : 0))));
        return string.Join('-', words);
    }

    /// <summary>Whether what the user typed is this code (case, spaces or hyphens between the words do not matter).</summary>
    public static bool Matches(string typed, string code) =>
        string.Equals(string.Join('-', typed.Split([' ', '-'], StringSplitOptions.RemoveEmptyEntries)), code, StringComparison.OrdinalIgnoreCase);

    // BitArray reads bits least significant first; the words read the hash most significant bit first.
    private static byte ReverseBits(byte value)
    {
        byte reversed = 0;
        for (var i = 0; i < 8; i++)
        {
            reversed = (byte)((reversed << 1) | ((value >> i) & 1));
        }

        return reversed;
    }
}
