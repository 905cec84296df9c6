using Keyward.Common.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Keyward.Common.Telemetry;

public static class TelemetryDefaults
{
    /// <summary>The activity source and meter every Keyward component reports under.</summary>
    public const string InstrumentationName = "Keyward";

    /// <summary>OpenTelemetry traces and metrics; exported over OTLP only when an endpoint is configured.</summary>
    public static WebApplicationBuilder AddKeywardTelemetry(this WebApplicationBuilder builder, string serviceName)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceNamespace: "keyward"))
            .WithTracing(tracing => tracing
                .AddSource(InstrumentationName, "MassTransit", "Marten")
                // Probes would drown real traffic; URL query values are redacted by the instrumentation.
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsProbe(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddGrpcClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(InstrumentationName, "MassTransit", "Marten")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation());

        var endpoint = OtlpSettings.Endpoint(builder.Configuration);
        if (endpoint is not null)
        {
            telemetry.UseOtlpExporter(OtlpExportProtocol.Grpc, endpoint);
        }

        return builder;
    }

    private static bool IsProbe(Microsoft.AspNetCore.Http.PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz");
}
