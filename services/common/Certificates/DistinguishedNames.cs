using System.Security.Cryptography.X509Certificates;

namespace Keyward.Common.Certificates;

/// <summary>Reading a certificate or CSR subject the way the E2EE policy needs it: the user id is the CN.</summary>
public static class DistinguishedNames
{
    private const string CommonNameOid = "2.5.4.3";

    /// <summary>Every single-valued CN of the name, in order (a policy wants exactly one).</summary>
    public static IReadOnlyList<string> CommonNames(X500DistinguishedName name) =>
        name.EnumerateRelativeDistinguishedNames()
            .Where(rdn => !rdn.HasMultipleElements && rdn.GetSingleElementType().Value == CommonNameOid)
            .Select(rdn => rdn.GetSingleElementValue() ?? "")
            .ToList();

    /// <summary>Whether the name has exactly one CN and it is <paramref name="userId"/>, case included.</summary>
    public static bool NamesExactly(X500DistinguishedName name, string userId) =>
        CommonNames(name) is [var only] && string.Equals(only, userId, StringComparison.Ordinal);
}
