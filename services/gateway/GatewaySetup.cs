using Grpc.Net.Client;
using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Keyward.Common.Messaging;
using Keyward.Common.Storage;
using Keyward.Common.Grpc;
using Keyward.Common.Health;
using Keyward.Gateway.Adapters;
using Keyward.Gateway.Api;
using Keyward.Gateway.Core;

namespace Keyward.Gateway;

public static class GatewaySetup
{
    public const string ServiceName = "gateway";

    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        var addresses = Backend.All.ToDictionary(b => b.Name, b => ServiceAddresses.Parse(b.Name, builder.Configuration[$"Keyward:Services:{b.Name}"]));

        builder.Services.AddSingleton<IAuthenticationFailureFormatter, OcsAuthenticationFailureFormatter>();
        // The gateway keeps no state but its audit outbox: refused tokens and refused clients.
        builder.AddKeywardMarten(schemaName: "gateway", options => options.AddAuditOutbox());
        builder.AddKeywardMessaging();
        builder.AddAuditRecorder(ServiceName);
        builder.Services.AddSingleton(new RefusedTokenTally(builder.Configuration.GetSection(RefusedTokenOptions.Section).Get<RefusedTokenOptions>() ?? new RefusedTokenOptions()));
        builder.Services.AddSingleton<IRefusedTokenObserver, RefusalAudit>();
        builder.Services.AddHostedService<RefusalAuditFlusher>();
        builder.AddEdgeRateLimits();
        FrontDoor.AddFrontDoor(builder);
        builder.AddKeywardGrpcClient<Keyserver.V1.Keyserver.KeyserverClient>("keyserver");
        builder.AddKeywardGrpcClient<CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient>("certificate-authority");
        builder.AddKeywardGrpcClient<Metadata.V1.MetadataService.MetadataServiceClient>("metadata")
            .ConfigureChannel(o => o.MaxSendMessageSize = o.MaxReceiveMessageSize = 40 * 1024 * 1024);

        builder.Services.AddOptions<OcsLimits>().Bind(builder.Configuration.GetSection(OcsLimits.Section))
            .Validate(l => l.KeyBodyBytes > 0 && l.MaxMetadataBytes > 0, $"{OcsLimits.Section}: KeyBodyBytes and MaxMetadataBytes must be positive.");

        var (routes, clusters) = ProxyRoutes.Build(addresses);
        builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters).AddTransforms(ProxyRoutes.RetryAfterOnOutage);

        var health = builder.Services.AddHealthChecks();
        foreach (var (name, replicas) in addresses)
        {
            var channels = replicas.Select(address => GrpcChannel.ForAddress(address)).ToList();
            health.Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
                name, _ => new BackendReadinessCheck(channels), failureStatus: null, tags: [HealthDefaults.ReadyTag]));
        }

        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.MapOcs();
        app.MapReverseProxy(proxy => proxy.Use(ProxyRoutes.AnswerAbsentServiceAsync));
        return app;
    }
}
