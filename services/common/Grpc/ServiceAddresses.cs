namespace Keyward.Common.Grpc;

/// <summary>
/// Where another service listens: <c>Keyward:Services:&lt;service&gt;</c> holds one gRPC address, or several separated by
/// <c>;</c> (replicas of the service; calls are balanced over those that answer).
/// </summary>
public static class ServiceAddresses
{
    public static IReadOnlyList<Uri> Parse(string service, string? configured)
    {
        var addresses = (configured ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(a => Uri.TryCreate(a, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri
                : throw new InvalidOperationException($"Keyward:Services:{service}: '{a}' is not an http(s) address."))
            .ToList();
        return addresses.Count > 0 ? addresses
            : throw new InvalidOperationException($"Keyward:Services:{service} (the service's gRPC address, or several separated by ';') is not configured.");
    }
}
