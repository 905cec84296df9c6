using Microsoft.Extensions.Configuration;

namespace Keyward.Common.Logging;

/// <summary>Where logs, traces and metrics go: <c>Keyward:Otlp:Endpoint</c> or the standard OTEL variable.</summary>
public static class OtlpSettings
{
    public static Uri? Endpoint(IConfiguration configuration)
    {
        var value = configuration["Keyward:Otlp:Endpoint"] ?? configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        return string.IsNullOrWhiteSpace(value) ? null : new Uri(value);
    }
}
