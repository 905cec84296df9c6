using JasperFx;
using JasperFx.Events;
using Keyward.Common.Health;
using Marten;
using JasperFx.MultiTenancy;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Keyward.Common.Storage;

public static class MartenDefaults
{
    public const string ConnectionStringName = "Postgres";

    /// <summary>
    /// Marten in the service's own schema, every document and event stream partitioned by tenant
    /// (conjoined tenancy: a tenant id on every row, every session opened for one tenant).
    /// Schema objects are never created on the fly: the configured schema is applied once at start-up.
    /// </summary>
    public static WebApplicationBuilder AddKeywardMarten(this WebApplicationBuilder builder, string schemaName, Action<StoreOptions> configure)
    {
        var connectionString = PostgresConnections.Tuned(builder.Configuration.GetConnectionString(ConnectionStringName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionStringName} is not configured."));

        builder.Services.AddMarten(options =>
            {
                options.Connection(connectionString);
                options.DatabaseSchemaName = schemaName;
                options.AutoCreateSchemaObjects = AutoCreate.None;
                options.Policies.AllDocumentsAreMultiTenanted();
                options.Events.TenancyStyle = TenancyStyle.Conjoined;
                options.Events.StreamIdentity = StreamIdentity.AsString;
                options.DisableNpgsqlLogging = true;
                configure(options);
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup();

        builder.Services.AddScoped<TenantSessions>();
        builder.Services.AddSingleton<Hosting.ISchemaMigration, Hosting.MartenSchemaMigration>();
        builder.Services.AddHealthChecks()
            .AddNpgSql(connectionString, name: "postgresql", tags: [HealthDefaults.ReadyTag], timeout: TimeSpan.FromSeconds(3));
        return builder;
    }
}
