using System.Text.RegularExpressions;

namespace Keyward.Gateway.Core;

/// <summary>
/// Which clients may touch end-to-end encrypted content (reference §a.0, "Client gating"): known Nextcloud
/// clients from a minimum version, or any client that sends <c>X-E2EE-SUPPORTED: true</c>. A known client
/// family with a too-old or missing version is refused even with the header: the first match decides.
/// </summary>
public static partial class E2eeClientPolicy
{
    private static readonly (Regex Family, Version Minimum)[] KnownClients =
    [
        (AndroidClient(), new Version(3, 13, 0)),
        (DesktopClient(), new Version(3, 0, 0)),
        (IosClient(), new Version(3, 0, 5)),
    ];

    public static bool Allows(string? userAgent, string? e2eeSupportedHeader)
    {
        foreach (var (family, minimum) in KnownClients)
        {
            var match = family.Match(userAgent ?? "");
            if (match.Success)
            {
                return Version.TryParse(match.Groups["version"].Value, out var version) && version >= minimum;
            }
        }

        return string.Equals(e2eeSupportedHeader?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
    }

    public static string RefusalMessage(string? userAgent) => $"Client \"{userAgent}\" is not allowed to access end-to-end encrypted content.";

    [GeneratedRegex(@"^Mozilla/5\.0 \(Android\) Nextcloud-android/?(?<version>\d+\.\d+\.\d+)?", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex AndroidClient();

    [GeneratedRegex(@"^Mozilla/5\.0 \([A-Za-z ]+\) (mirall|csyncoC)/?(?<version>\d+\.\d+\.\d+)?", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex DesktopClient();

    [GeneratedRegex(@"^Mozilla/5\.0 \(iOS\) Nextcloud-iOS/?(?<version>\d+\.\d+\.\d+)?", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex IosClient();
}
