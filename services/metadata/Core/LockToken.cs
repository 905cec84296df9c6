using System.Security.Cryptography;

namespace Keyward.Metadata.Core;

/// <summary>A lock token as the reference makes it: 64 random characters from [A-Za-z0-9] (§b).</summary>
public static class LockToken
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static string New() => RandomNumberGenerator.GetString(Alphabet, 64);
}
