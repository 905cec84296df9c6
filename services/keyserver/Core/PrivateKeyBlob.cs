namespace Keyward.Keyserver.Core;

/// <summary>
/// The format check of an encrypted private-key blob, as the reference server does it (§a.2, §d):
/// <c>base64(ciphertext‖tag) | base64(iv) | base64(salt)</c>, exactly three parts, strict Base64,
/// a 12-byte IV and a 40-byte salt. The blob itself is stored and returned byte for byte.
/// </summary>
public static class PrivateKeyBlob
{
    public const int MaxLength = 64 * 1024;
    public const string InvalidFormatMessage = "Invalid private key format";

    public static bool IsWellFormed(string? blob)
    {
        if (string.IsNullOrEmpty(blob) || blob.Length > MaxLength)
        {
            return false;
        }

        var parts = blob.Split('|');
        return parts.Length == 3
            && DecodedLength(parts[0]) > 0
            && DecodedLength(parts[1]) == 12
            && DecodedLength(parts[2]) == 40;
    }

    /// <summary>
    /// Length of strict Base64 (alphabet, padding, no whitespace), or -1. .NET's decoder skips
    /// whitespace, so the alphabet is checked here first.
    /// </summary>
    private static int DecodedLength(string value)
    {
        if (value.Length == 0 || value.Length % 4 != 0)
        {
            return -1;
        }

        var padding = value.EndsWith("==", StringComparison.Ordinal) ? 2 : value.EndsWith('=') ? 1 : 0;
        for (var i = 0; i < value.Length - padding; i++)
        {
            var c = value[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c == '+' || c == '/'))
            {
                return -1;
            }
        }

        var buffer = new byte[value.Length / 4 * 3];
        return Convert.TryFromBase64String(value, buffer, out var written) ? written : -1;
    }
}
