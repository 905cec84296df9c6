using Keyward.Audit.Api;

using Keyward.Audit.Adapters;
using Keyward.Audit.Core;
using Keyward.Audit.Jobs;
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
        // Before the bus: the chain's tables exist before the first event is consumed.
        builder.Services.AddSingleton<ChainSchemaMigration>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ChainSchemaMigration>());
        builder.Services.AddSingleton<Keyward.Common.Hosting.ISchemaMigration>(sp => sp.GetRequiredService<ChainSchemaMigration>());
        builder.Services.AddHealthChecks().AddNpgSql(connectionString, name: "postgresql", tags: [HealthDefaults.ReadyTag], timeout: TimeSpan.FromSeconds(3));
        builder.Services.AddSingleton<ChainStore>();
        builder.Services.AddSingleton<IChainReader>(sp => sp.GetRequiredService<ChainStore>());
        builder.Services.AddScoped<ICheckpointKeys, CaCheckpointKeys>();
        builder.Services.AddScoped<AuditQueries>();
        builder.Services.AddSingleton<Checkpointer>();
        builder.Services.AddHostedService<CheckpointTimer>();
        builder.Services.AddOptions<CheckpointOptions>().Bind(builder.Configuration.GetSection(CheckpointOptions.Section));
        builder.Services.AddSingleton(sp => new ServiceTokens(sp.GetRequiredService<ServiceIdentityOptions>(), ServiceName));
        builder.AddKeywardGrpcClient<CaClient>("certificate-authority");
        builder.AddKeywardMessaging(bus => bus.AddConsumer<AuditEventsConsumer>(typeof(AuditEventsConsumerDefinition)));
        return builder;
    }

    public static WebApplication MapAudit(this WebApplication app)
    {
        app.MapGrpcService<AuditServiceApi>();
        app.MapAuditExport();
        return app;
    }
}
