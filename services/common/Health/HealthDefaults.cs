using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Keyward.Common.Health;

/// <summary>
/// <c>/healthz</c>: the process is alive. <c>/readyz</c>: every dependency tagged "ready" answers
/// (PostgreSQL, RabbitMQ, the HSM token, or for the gateway the services behind it).
/// The gRPC health service reports the same readiness.
/// </summary>
public static class HealthDefaults
{
    public const string ReadyTag = "ready";

    public static WebApplicationBuilder AddKeywardHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks();
        builder.Services.AddGrpcHealthChecks(o =>
        {
            o.Services.Map("", r => r.Tags.Contains(ReadyTag));
        });
        return builder;
    }

    public static WebApplication MapKeywardHealth(this WebApplication app, bool requireAuthForGrpcHealth = false)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteJson })
            .AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = r => r.Tags.Contains(ReadyTag), ResponseWriter = WriteJson })
            .AllowAnonymous();
        var grpcHealth = app.MapGrpcHealthChecksService();
        if (!requireAuthForGrpcHealth)
        {
            grpcHealth.AllowAnonymous();
        }

        return app;
    }

    // Names and states only: exception texts can carry host names or connection details.
    private static Task WriteJson(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
