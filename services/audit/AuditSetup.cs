using Keyward.Audit.Api;

using Keyward.Audit.Adapters;
using Keyward.Audit.Core;
using Keyward.Audit.Jobs;
using Keyward.AuditTrail;
using Keyward.Common.Auth;
using Keyward.Common.Grpc;
using Keyward.Common.Health;
using Keyward.Common.Messaging;
using Keyward.Common.Storage;
using Npgsql;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.Audit;

public static class AuditSetup
{
    public const string ServiceName = "audit";

    public static WebApplicationBuilder AddAudit(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(MartenDefaults.ConnectionStringName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{MartenDefaults.ConnectionStringName} is not configured.");
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(PostgresConnections.Tuned(connectionString)));
        // Before the bus: the log tables exist (and older chains are carried over) before the first event is consumed.
        builder.Services.AddSingleton<LogSchemaMigration>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LogSchemaMigration>());
        builder.Services.AddSingleton<Keyward.Common.Hosting.ISchemaMigration>(sp => sp.GetRequiredService<LogSchemaMigration>());
        builder.Services.AddHealthChecks().AddNpgSql(connectionString, name: "postgresql", tags: [HealthDefaults.ReadyTag], timeout: TimeSpan.FromSeconds(3));
        builder.Services.AddSingleton<LogStore>();
        builder.Services.AddSingleton<ILogReader>(sp => sp.GetRequiredService<LogStore>());
        builder.Services.AddSingleton<ICosignatureStore>(sp => sp.GetRequiredService<LogStore>());
        builder.Services.AddScoped<ILogKeys, CaLogKeys>();
        builder.Services.AddScoped<AuditQueries>();
        builder.Services.AddScoped<LogProofs>();
        builder.Services.AddScoped<KeyTransparency>();
        builder.Services.AddScoped<Witnesses>();
        builder.Services.AddSingleton(Bind<TransparencyOptions>(builder, LogOrigins.Section));
        builder.Services.AddSingleton(Bind<WitnessOptions>(builder, WitnessOptions.Section));
        builder.Services.AddSingleton(Bind<PinnedLogKeys>(builder, PinnedLogKeys.Section));
        builder.Services.AddSingleton(new PublisherPolicy(Bind<PublisherOptions>(builder, PublisherOptions.Section)));
        builder.Services.AddSingleton<CheckpointSigner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CheckpointSigner>());
        builder.Services.AddSingleton(sp => new ServiceTokens(sp.GetRequiredService<ServiceIdentityOptions>(), ServiceName));
        builder.AddKeywardGrpcClient<CaClient>("certificate-authority");
        builder.Services.AddSingleton<IReceiptKeys, CaReceiptKeys>();
        builder.Services.AddSingleton<ReceiptVerifier>();
        builder.Services.AddSingleton<AuditIntake>();
        builder.AddKeywardMessaging(bus =>
        {
            bus.AddConsumer<AuditEventsConsumer>(typeof(AuditEventsConsumerDefinition));
            bus.AddConsumer<AuditEventBatchesConsumer>(typeof(AuditEventBatchesConsumerDefinition));
        });
        return builder;
    }

    private static T Bind<T>(WebApplicationBuilder builder, string section) where T : new()
    {
        // PinnedLogKeys is a map of tenant → fingerprint under its section; the others are plain option objects.
        if (typeof(T) == typeof(PinnedLogKeys))
        {
            var pins = new PinnedLogKeys();
            builder.Configuration.GetSection(section).Bind(pins.Tenants);
            return (T)(object)pins;
        }

        return builder.Configuration.GetSection(section).Get<T>() ?? new T();
    }

    public static WebApplication MapAudit(this WebApplication app)
    {
        app.MapGrpcService<AuditServiceApi>();
        app.MapLogEndpoints();
        return app;
    }
}
