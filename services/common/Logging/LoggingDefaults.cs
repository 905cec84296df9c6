using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog.Sinks.OpenTelemetry;

namespace Keyward.Common.Logging;

public static class LoggingDefaults
{
    // A collector that accepts connections but never answers held shutdown for minutes: bound the flush.
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Serilog: compact JSON on stdout; the OTLP sink only when an endpoint is configured.</summary>
    public static WebApplicationBuilder AddKeywardLogging(this WebApplicationBuilder builder, string serviceName)
    {
        var otlpEndpoint = OtlpSettings.Endpoint(builder.Configuration);
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .MinimumLevel.Override("Grpc", LogEventLevel.Warning)
            .MinimumLevel.Override("Yarp", LogEventLevel.Warning)
            .MinimumLevel.Override("Marten", LogEventLevel.Warning)
            .MinimumLevel.Override("MassTransit", LogEventLevel.Warning)
            // Four lines per call between services (measured: most of the gateway's log volume); the request log keeps one.
            .MinimumLevel.Override("System.Net.Http.HttpClient", LogEventLevel.Warning)
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("service", serviceName)
            .WriteTo.Console(new RenderedCompactJsonFormatter());

        if (otlpEndpoint is not null)
        {
            configuration.WriteTo.OpenTelemetry(sink =>
            {
                sink.Endpoint = otlpEndpoint.ToString();
                sink.Protocol = OtlpProtocol.Grpc;
                sink.ResourceAttributes["service.name"] = serviceName;
            });
        }

        var logger = configuration.CreateLogger();
        Log.Logger = logger;
        builder.Services.AddSerilog(logger, dispose: false);
        builder.Services.AddHostedService(_ => new BoundedLogFlush(logger, FlushTimeout));
        return builder;
    }

    /// <summary>Flushes the logger when the host stops, giving up after a bounded time.</summary>
    private sealed class BoundedLogFlush(Serilog.Core.Logger logger, TimeSpan timeout) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            var flush = Task.Run(logger.Dispose, CancellationToken.None);
            await Task.WhenAny(flush, Task.Delay(timeout, CancellationToken.None));
        }
    }
}
