using NBitcoin;

namespace Keyward.Client;

/// <summary>The 12-word BIP-39 mnemonic that protects a user's private key (reference §d). It never leaves the device.</summary>
public static class Mnemonics
{
    public static string Generate() => new Mnemonic(Wordlist.English, WordCount.Twelve).ToString();

    /// <summary>Twelve English BIP-39 words whose checksum holds (spacing and case do not matter).</summary>
    public static bool IsValid(string mnemonic)
    {
        var words = mnemonic.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length != 12)
        {
            return false;
        }

        try
        {
            return new Mnemonic(string.Join(' ', words).ToLowerInvariant(), Wordlist.English).IsValidChecksum;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The password derived from a mnemonic: lower case, all whitespace removed (reference §d).</summary>
    public static string Password(string mnemonic) => new(mnemonic.ToLowerInvariant().Where(c => !char.IsWhiteSpace(c)).ToArray());
}
