using Keyward.Common.Auth;
using Keyward.Common.Grpc;
using Keyward.Common.Health;
using Keyward.Common.Logging;
using Keyward.Common.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Serilog;

namespace Keyward.Common.Hosting;

/// <summary>The one call every Keyward service makes: endpoints, logs, telemetry, health, authentication, gRPC.</summary>
public static class ServiceDefaults
{
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder, string serviceName)
    {
        builder.AddKeywardEndpoints();
        builder.AddKeywardLogging(serviceName);
        builder.AddKeywardTelemetry(serviceName);
        builder.AddKeywardHealth();
        builder.AddKeywardAuthentication();
        // REST callers get the error reason too: the transcoder must know google.rpc.ErrorInfo to write it.
        builder.AddKeywardForwardedHeaders();
        builder.Services.AddExceptionHandler<FaultResponses>();
        builder.Services.AddGrpc(o =>
            {
                o.EnableDetailedErrors = false;
                o.Interceptors.Add<RefusalInterceptor>();
            })
            .AddJsonTranscoding(o => o.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromMessages(Google.Rpc.ErrorInfo.Descriptor));
        builder.Services.AddGrpcReflection();
        return builder;
    }

    /// <summary>
    /// Request logging (path only, never the query or headers), auth, health endpoints. An edge service puts its own
    /// checks around authentication: <paramref name="beforeAuthentication"/> runs before any token is read (what must
    /// not cost a token check), <paramref name="afterAuthentication"/> knows the caller but runs before authorization
    /// answers 401/403 (what must count unauthenticated requests too).
    /// </summary>
    public static WebApplication UseServiceDefaults(this WebApplication app, bool requireAuthForGrpcHealth = false,
        Action<WebApplication>? beforeAuthentication = null, Action<WebApplication>? afterAuthentication = null)
    {
        app.UseForwardedHeaders();
        // FaultResponses answers; the delegate only runs for what it leaves (a response already started).
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = _ => Task.CompletedTask });
        app.UseSerilogRequestLogging(o => o.GetLevel = (context, _, error) =>
            error is not null || context.Response.StatusCode >= 500 ? Serilog.Events.LogEventLevel.Error
            : context.Request.Path.StartsWithSegments("/healthz") || context.Request.Path.StartsWithSegments("/readyz") ? Serilog.Events.LogEventLevel.Verbose
            : Serilog.Events.LogEventLevel.Information);
        beforeAuthentication?.Invoke(app);
        app.UseAuthentication();
        afterAuthentication?.Invoke(app);
        app.UseAuthorization();
        app.MapKeywardHealth(requireAuthForGrpcHealth);
        app.MapGrpcReflectionService().AllowAnonymous();
        return app;
    }
}
