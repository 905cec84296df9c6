using Keyward.AuditTrail;
using Npgsql;

namespace Keyward.Audit.Adapters;

/// <summary>
/// Makes sure the log tables exist before anything is consumed, and carries a linear hash chain of an older
/// release over into the logs. The tables belong to a role no service connects as; the service applies the
/// schema itself only where it is allowed to (a deployment where it owns the schema), and otherwise says who must.
/// </summary>
public sealed class LogSchemaMigration(NpgsqlDataSource dataSource, LogStore store, ILogger<LogSchemaMigration> logger) : IHostedService, Keyward.Common.Hosting.ISchemaMigration
{
    public static string Sql { get; } = ReadSql();

    public Task ApplyAsync(CancellationToken cancellationToken) => StartAsync(cancellationToken);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await EnsureSchemaAsync(cancellationToken);
                await CarryOverLegacyChainsAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException e) when (attempt < 60 && e is not PostgresException { SqlState: PostgresErrorCodes.InsufficientPrivilege })
            {
                logger.LogWarning("Audit log schema not ready yet ({Reason}); retrying", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task EnsureSchemaAsync(CancellationToken ct)
    {
        await using var check = dataSource.CreateCommand(
            "select to_regclass('audit.log_entries') is not null and to_regclass('audit.log_cosignatures') is not null");
        if ((bool)(await check.ExecuteScalarAsync(ct))!)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using (var advisory = new NpgsqlCommand("select pg_advisory_lock(727161)", connection))
        {
            await advisory.ExecuteNonQueryAsync(ct);
        }

        try
        {
            await using var command = new NpgsqlCommand(Sql, connection);
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new InvalidOperationException(
                "The audit log tables do not exist and this service's role may not create them (by design: it may only insert). "
                + "Apply services/audit/Adapters/Schema/audit-log.sql as the schema's owner role (scripts/stack does; see docs/operations.md).", e);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock(727161)", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// An older release kept one linear hash chain per tenant (audit.chain_entries). Each chain is verified link by
    /// link and its events appended, in chain order, to the tenant's logs; a chain that does not verify is not
    /// carried over (and the service does not start), so a broken history is never laundered into a signed tree.
    /// Resumable: a crash part-way continues after the last carried-over entry.
    /// </summary>
    private async Task CarryOverLegacyChainsAsync(CancellationToken ct)
    {
        await using (var exists = dataSource.CreateCommand("select to_regclass('audit.chain_entries') is not null"))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(ct))!)
            {
                return;
            }
        }

        var tenants = new List<(string Tenant, long Entries)>();
        await using (var list = dataSource.CreateCommand("select tenant_id, max(sequence) from audit.chain_entries group by tenant_id"))
        await using (var reader = await list.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                tenants.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }

        foreach (var (tenant, entries) in tenants)
        {
            var carried = (await store.HeadAsync(tenant, LogOrigins.AuditLog, ct))?.Size ?? 0;
            if (carried >= entries)
            {
                continue;
            }

            logger.LogInformation("Carrying tenant {TenantId}'s linear audit chain over into its log: {Done}/{Total}", tenant, carried, entries);
            var previous = carried == 0 ? ChainHash.Genesis : await LegacyHashAsync(tenant, carried, ct);
            for (var from = carried + 1; from <= entries; from += 1000)
            {
                var batch = new List<AuditEvent>();
                await using (var read = dataSource.CreateCommand(
                    "select sequence, canonical, previous_hash, hash from audit.chain_entries where tenant_id = @t and sequence between @f and @to order by sequence"))
                {
                    read.Parameters.AddWithValue("t", tenant);
                    read.Parameters.AddWithValue("f", from);
                    read.Parameters.AddWithValue("to", from + 999);
                    await using var reader = await read.ExecuteReaderAsync(ct);
                    var expected = from;
                    while (await reader.ReadAsync(ct))
                    {
                        var sequence = reader.GetInt64(0);
                        var canonical = (byte[])reader[1];
                        var hash = (byte[])reader[3];
                        if (sequence != expected++ || !((byte[])reader[2]).AsSpan().SequenceEqual(previous)
                            || !ChainHash.Next(previous, canonical).AsSpan().SequenceEqual(hash) || !CanonicalAuditEventReader.TryParse(canonical, out var auditEvent))
                        {
                            throw new InvalidOperationException($"Tenant {tenant}'s legacy audit chain does not verify at entry {expected - 1}; it is not carried over. Investigate before upgrading.");
                        }

                        previous = hash;
                        batch.Add(auditEvent);
                    }
                }

                await store.AppendAsync(tenant, batch, keepOrder: true, ct);
                logger.LogInformation("Tenant {TenantId}: {Done}/{Total} legacy entries carried over", tenant, Math.Min(from + 999, entries), entries);
            }
        }
    }

    private async Task<byte[]> LegacyHashAsync(string tenant, long sequence, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("select hash from audit.chain_entries where tenant_id = @t and sequence = @s");
        command.Parameters.AddWithValue("t", tenant);
        command.Parameters.AddWithValue("s", sequence);
        return (byte[])(await command.ExecuteScalarAsync(ct))!;
    }

    private static string ReadSql()
    {
        using var stream = typeof(LogSchemaMigration).Assembly.GetManifestResourceStream("audit-log.sql")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
