using Keyward.Common.Limits;

namespace Keyward.Gateway.Core;

/// <summary>The kinds of expensive work the gateway budgets per caller.</summary>
public enum EdgeLimit
{
    /// <summary>A certificate signed by the tenant's HSM key (OCS POST public-key, a re-issue).</summary>
    CertificateSigning,

    /// <summary>Fetching or storing a wrapped private key, asking for or collecting a device approval.</summary>
    Enrollment,

    /// <summary>A change to a folder: flag, metadata, filedrop, lock, unlock, restore, reset.</summary>
    MetadataWrite,
}

/// <summary>
/// The gateway's limits (<c>Keyward:Gateway:RateLimits</c>): budgets no real client meets, so that no caller can make
/// the system sign, verify or store without bound. Sources are addresses as the gateway sees them (behind a
/// Nextcloud instance that is the instance, so the per-source budgets are generous).
/// </summary>
public sealed class EdgeLimitOptions
{
    public const string Section = "Keyward:Gateway:RateLimits";

    /// <summary>Refused bearer tokens per source address; once spent, its tokens are refused unread until it refills.</summary>
    public RateBudget RefusedTokensPerSource { get; set; } = new(100, 60);

    /// <summary>Requests without a valid identity (no token, or a refused one) per source address; health probes are not counted.</summary>
    public RateBudget UnauthenticatedPerSource { get; set; } = new(600, 600);

    public RateBudget CertificateSigningPerUser { get; set; } = new(10, 1);

    public RateBudget CertificateSigningPerTenant { get; set; } = new(1_000, 60_000);

    public RateBudget EnrollmentPerUser { get; set; } = new(30, 10);

    public RateBudget MetadataWritesPerUser { get; set; } = new(600, 3_000);

    public bool IsValid() => new[] { RefusedTokensPerSource, UnauthenticatedPerSource, CertificateSigningPerUser, CertificateSigningPerTenant, EnrollmentPerUser, MetadataWritesPerUser }
        .All(b => b is { IsValid: true });
}

/// <summary>Which budget a request spends, from its method and path (OCS, REST and gRPC alike), or none.</summary>
public static class EdgeLimitClassifier
{
    private const string OcsApi = "/apps/end_to_end_encryption/api/v";

    private static readonly HashSet<string> SigningRpcs = ["CreateCertificate", "ReissueCertificate"];
    private static readonly HashSet<string> EnrollmentRpcs = ["SetPrivateKey", "GetPrivateKey", "RequestDevice", "CollectDevice"];
    private static readonly HashSet<string> MetadataReadRpcs = ["WhoAmI", "GetMetadata", "CheckLock", "ListVersions", "GetVersion"];

    public static EdgeLimit? Classify(string method, string path)
    {
        var get = Is(method, "GET") || Is(method, "HEAD");
        var post = Is(method, "POST");
        if (path.IndexOf(OcsApi, StringComparison.Ordinal) is var ocs and >= 0)
        {
            // …/api/v2/<resource>[/<id>…]
            var rest = path.AsSpan(ocs + OcsApi.Length);
            rest = rest[(rest.IndexOf('/') is var slash and >= 0 ? slash + 1 : rest.Length)..];
            var resource = rest.IndexOf('/') is var end and >= 0 ? rest[..end] : rest;
            return resource switch
            {
                "public-key" when post => EdgeLimit.CertificateSigning,
                "private-key" when get || post => EdgeLimit.Enrollment,
                "meta-data" or "lock" or "encrypted" or "encrypted-files" when !get => EdgeLimit.MetadataWrite,
                _ => null,
            };
        }

        if (path.StartsWith("/keyward.keyserver.v1.Keyserver/", StringComparison.Ordinal))
        {
            var rpc = path["/keyward.keyserver.v1.Keyserver/".Length..];
            return SigningRpcs.Contains(rpc) ? EdgeLimit.CertificateSigning : EnrollmentRpcs.Contains(rpc) ? EdgeLimit.Enrollment : null;
        }

        if (path.StartsWith("/keyward.metadata.v1.MetadataService/", StringComparison.Ordinal))
        {
            return MetadataReadRpcs.Contains(path["/keyward.metadata.v1.MetadataService/".Length..]) ? null : EdgeLimit.MetadataWrite;
        }

        if (path.StartsWith("/v1/keys/", StringComparison.Ordinal))
        {
            return path switch
            {
                "/v1/keys/certificate" when post => EdgeLimit.CertificateSigning,
                _ when post && path.StartsWith("/v1/keys/certificates/", StringComparison.Ordinal) && path.EndsWith("/reissue", StringComparison.Ordinal) => EdgeLimit.CertificateSigning,
                "/v1/keys/private-key" when get || post => EdgeLimit.Enrollment,
                "/v1/keys/devices" when post => EdgeLimit.Enrollment,
                // Collecting an approved device request: GET /v1/keys/devices/{id} (approving is …/approve, by another device).
                _ when get && path.StartsWith("/v1/keys/devices/", StringComparison.Ordinal) && path.IndexOf('/', "/v1/keys/devices/".Length) < 0 => EdgeLimit.Enrollment,
                _ => null,
            };
        }

        return path.StartsWith("/v1/folders/", StringComparison.Ordinal) && !get ? EdgeLimit.MetadataWrite : null;
    }

    // Core knows no ASP.NET Core, so not its HttpMethods; compared as that does, ignoring case.
    private static bool Is(string method, string expected) => string.Equals(method, expected, StringComparison.OrdinalIgnoreCase);
}
