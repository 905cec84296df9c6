using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Keyward.Common.Hosting;

/// <summary>A schema a service needs in its database, applied at start-up or alone by a migration step.</summary>
public interface ISchemaMigration
{
    Task ApplyAsync(CancellationToken cancellationToken);
}

/// <summary>Applies the Marten schema of the service (documents, event store, outbox).</summary>
public sealed class MartenSchemaMigration(IDocumentStore store) : ISchemaMigration
{
    public Task ApplyAsync(CancellationToken cancellationToken) => store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
}

public static class SchemaMigrationRunner
{
    /// <summary>
    /// Runs the service, or with <c>Keyward:MigrateOnly=true</c> applies its schema and exits: the Helm
    /// chart's init step, so replicas never race on DDL and the schema is in place before traffic.
    /// </summary>
    public static async Task RunKeywardAsync(this WebApplication app)
    {
        if (!app.Configuration.GetValue<bool>("Keyward:MigrateOnly"))
        {
            await app.RunAsync();
            return;
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Keyward.Migration");
        foreach (var migration in app.Services.GetServices<ISchemaMigration>())
        {
            await migration.ApplyAsync(CancellationToken.None);
            logger.LogInformation("Applied {Migration}", migration.GetType().Name);
        }
    }
}
