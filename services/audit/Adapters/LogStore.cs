using System.Runtime.CompilerServices;
using System.Text;
using Keyward.Audit.Core;
using Keyward.AuditTrail;
using Keyward.Common.Storage;
using Keyward.Transparency;
using Npgsql;
using NpgsqlTypes;

namespace Keyward.Audit.Adapters;

/// <summary>
/// A tenant's two logs in PostgreSQL, written with Npgsql (COPY for the leaves and nodes of a batch). One
/// transaction per tenant batch, under an advisory lock per log, so replicas append one after the other and a
/// crash leaves either the whole batch or none of it.
/// </summary>
public sealed class LogStore(NpgsqlDataSource dataSource) : ILogReader, ICosignatureStore
{
    private static readonly string[] Logs = [LogOrigins.AuditLog, LogOrigins.KeysLog];

    /// <summary>
    /// Appends the events to the tenant's audit log (and their identity events to its keys log); returns the new
    /// heads of the logs that grew. Events already logged are dropped, so a redelivery changes nothing.
    /// </summary>
    public async Task<IReadOnlyList<(string Log, LogState Head, int Appended)>> AppendAsync(string tenantId, IReadOnlyList<AuditEvent> events, bool keepOrder, CancellationToken ct)
    {
        var ordered = keepOrder ? events : events.OrderBy(e => e.OccurredAt).ThenBy(e => e.EventId).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        var heads = new Dictionary<string, LogState?>();
        var logged = Logs.ToDictionary(l => l, _ => new HashSet<Guid>());
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            batch.BatchCommands.Add(Command("select pg_advisory_xact_lock(hashtextextended(@p0, 0)), pg_advisory_xact_lock(hashtextextended(@p1, 0))",
                $"{tenantId}/{LogOrigins.AuditLog}", $"{tenantId}/{LogOrigins.KeysLog}"));
            foreach (var log in Logs)
            {
                batch.BatchCommands.Add(Command("select size, root, edge from audit.log_states where tenant_id = @p0 and log = @p1 order by size desc limit 1", tenantId, log));
            }

            batch.BatchCommands.Add(Command("select log, event_id from audit.log_entries where tenant_id = @p0 and log = any(@p1) and event_id = any(@p2)",
                tenantId, Logs, ordered.Select(e => e.EventId).ToArray()));
            await using var reader = await batch.ExecuteReaderAsync(ct);
            foreach (var log in Logs)
            {
                await reader.NextResultAsync(ct);
                heads[log] = await reader.ReadAsync(ct) ? new LogState(reader.GetInt64(0), (byte[])reader[1], (byte[])reader[2]) : null;
            }

            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                logged[reader.GetString(0)].Add(reader.GetGuid(1));
            }
        }

        var integrated = new List<(string Log, IntegratedBatch Batch)>
        {
            (LogOrigins.AuditLog, LogIntegration.Integrate(heads[LogOrigins.AuditLog], ordered.Select(Leaves.Audit), logged[LogOrigins.AuditLog])),
            (LogOrigins.KeysLog, LogIntegration.Integrate(heads[LogOrigins.KeysLog], ordered.Select(Leaves.Identity).OfType<NewLeaf>(), logged[LogOrigins.KeysLog])),
        };
        var grown = integrated.Where(i => i.Batch.Leaves.Count > 0).ToList();
        if (grown.Count == 0)
        {
            await transaction.CommitAsync(ct);
            return [];
        }

        await using (var import = await connection.BeginBinaryImportAsync(
            "copy audit.log_entries (tenant_id, log, idx, event_id, occurred_at, action, actor, target_type, target_id, outcome, service, leaf) from stdin (format binary)", ct))
        {
            foreach (var (log, batch) in grown)
            {
                var index = batch.FirstIndex;
                foreach (var leaf in batch.Leaves)
                {
                    var c = leaf.Columns;
                    await import.StartRowAsync(ct);
                    await import.WriteAsync(tenantId, NpgsqlDbType.Text, ct);
                    await import.WriteAsync(log, NpgsqlDbType.Text, ct);
                    await import.WriteAsync(index++, NpgsqlDbType.Bigint, ct);
                    await import.WriteAsync(leaf.EventId, NpgsqlDbType.Uuid, ct);
                    await import.WriteAsync(c.OccurredAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                    await import.WriteAsync(c.Action, NpgsqlDbType.Text, ct);
                    await import.WriteAsync(c.Actor, NpgsqlDbType.Text, ct);
                    await import.WriteAsync(c.TargetType, NpgsqlDbType.Text, ct);
                    await import.WriteAsync(c.TargetId, NpgsqlDbType.Text, ct);
                    await import.WriteAsync(c.Outcome, NpgsqlDbType.Text, ct);
                    await import.WriteAsync(c.Service, NpgsqlDbType.Text, ct);
                    await import.WriteAsync(leaf.Data, NpgsqlDbType.Bytea, ct);
                }
            }

            await import.CompleteAsync(ct);
        }

        await using (var import = await connection.BeginBinaryImportAsync("copy audit.log_nodes (tenant_id, log, level, idx, hash) from stdin (format binary)", ct))
        {
            foreach (var (log, batch) in grown)
            {
                foreach (var (node, hash) in batch.Nodes)
                {
                    await import.StartRowAsync(ct);
                    await import.WriteAsync(tenantId, NpgsqlDbType.Text, ct);
                    await import.WriteAsync(log, NpgsqlDbType.Text, ct);
                    await import.WriteAsync((short)node.Level, NpgsqlDbType.Smallint, ct);
                    await import.WriteAsync(node.Index, NpgsqlDbType.Bigint, ct);
                    await import.WriteAsync(hash, NpgsqlDbType.Bytea, ct);
                }
            }

            await import.CompleteAsync(ct);
        }

        await using (var states = new NpgsqlBatch(connection, transaction))
        {
            foreach (var (log, batch) in grown)
            {
                states.BatchCommands.Add(Command("insert into audit.log_states (tenant_id, log, size, root, edge) values (@p0, @p1, @p2, @p3, @p4)",
                    tenantId, log, batch.State.Size, batch.State.Root, batch.State.Edge));
            }

            await states.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return grown.Select(g => (g.Log, g.Batch.State, g.Batch.Leaves.Count)).ToList();
    }

    public async Task<LogState?> HeadAsync(string tenantId, string log, CancellationToken ct)
    {
        await using var command = Create("select size, root, edge from audit.log_states where tenant_id = @p0 and log = @p1 order by size desc limit 1", tenantId, log);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new LogState(reader.GetInt64(0), (byte[])reader[1], (byte[])reader[2]) : null;
    }

    public async Task<StoredCheckpoint?> LastCheckpointAsync(string tenantId, string log, CancellationToken ct) =>
        (await ReadCheckpointsAsync("select size, note, signed_at from audit.log_checkpoints where tenant_id = @p0 and log = @p1 order by size desc limit 1", ct, tenantId, log)).FirstOrDefault();

    public async Task<StoredCheckpoint?> CheckpointAsync(string tenantId, string log, long size, CancellationToken ct) =>
        (await ReadCheckpointsAsync("select size, note, signed_at from audit.log_checkpoints where tenant_id = @p0 and log = @p1 and size = @p2", ct, tenantId, log, size)).FirstOrDefault();

    public Task<IReadOnlyList<StoredCheckpoint>> CheckpointsAsync(string tenantId, string log, long fromSize, long toSize, CancellationToken ct) =>
        ReadCheckpointsAsync("select size, note, signed_at from audit.log_checkpoints where tenant_id = @p0 and log = @p1 and size between @p2 and @p3 order by size", ct, tenantId, log, fromSize, toSize);

    public async Task<IReadOnlyList<string>> CosignaturesAsync(string tenantId, string log, long size, CancellationToken ct)
    {
        await using var command = Create("select line from audit.log_cosignatures where tenant_id = @p0 and log = @p1 and size = @p2 order by witness", tenantId, log, size);
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            lines.Add(reader.GetString(0));
        }

        return lines;
    }

    public async Task<StoredCheckpoint?> CosignedCheckpointAsync(string tenantId, string log, long? size, CancellationToken ct) =>
        (await ReadCheckpointsAsync($"""
            select c.size, c.note || coalesce((select string_agg(w.line, '' order by w.witness) from audit.log_cosignatures w
                                               where w.tenant_id = c.tenant_id and w.log = c.log and w.size = c.size), ''), c.signed_at
            from audit.log_checkpoints c where c.tenant_id = @p0 and c.log = @p1 {(size is null ? "" : "and c.size = @p2")} order by c.size desc limit 1
            """, ct, size is null ? [tenantId, log] : [tenantId, log, size.Value])).FirstOrDefault();

    /// <summary>One replica at a time signs a log's head (separate from the append lock: appends go on meanwhile).</summary>
    public Task<AdvisoryTurn> SigningTurnAsync(string tenantId, string log, CancellationToken ct) =>
        AdvisoryTurn.TakeAsync(dataSource.CreateConnection(), $"keyward-checkpoint/{tenantId}/{log}", ct);

    public async Task AddCheckpointAsync(string tenantId, string log, long size, string note, CancellationToken ct)
    {
        await using var command = Create("insert into audit.log_checkpoints (tenant_id, log, size, note) values (@p0, @p1, @p2, @p3) on conflict do nothing", tenantId, log, size, note);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task AddCosignatureAsync(string tenantId, string log, long size, string witness, string line, CancellationToken ct)
    {
        await using var command = Create("insert into audit.log_cosignatures (tenant_id, log, size, witness, line) values (@p0, @p1, @p2, @p3, @p4) on conflict do nothing",
            tenantId, log, size, witness, line);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Logs whose head is ahead of their last checkpoint (what a restarted signer picks up).</summary>
    public async Task<IReadOnlyList<(string TenantId, string Log)>> UnsignedLogsAsync(CancellationToken ct)
    {
        await using var command = Create("""
            select s.tenant_id, s.log from (select tenant_id, log, max(size) size from audit.log_states group by 1, 2) s
            left join (select tenant_id, log, max(size) size from audit.log_checkpoints group by 1, 2) c using (tenant_id, log)
            where s.size > coalesce(c.size, -1)
            """);
        var logs = new List<(string, string)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            logs.Add((reader.GetString(0), reader.GetString(1)));
        }

        return logs;
    }

    public async IAsyncEnumerable<StoredLeaf> LeavesAsync(string tenantId, string log, long from, long to, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var command = Create($"""
            select e.idx, e.event_id, e.leaf, {ColumnList}, n.hash from audit.log_entries e
            left join audit.log_nodes n on n.tenant_id = e.tenant_id and n.log = e.log and n.level = 0 and n.idx = e.idx
            where e.tenant_id = @p0 and e.log = @p1 and e.idx >= @p2 and e.idx < @p3 order by e.idx
            """, tenantId, log, from, to);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            yield return ReadLeaf(reader, withHash: true);
        }
    }

    public async Task<IReadOnlyList<StoredLeaf>> QueryAsync(string tenantId, string log, EntryFilter filter, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand();
        var sql = new StringBuilder($"select e.idx, e.event_id, e.leaf, {ColumnList} from audit.log_entries e where e.tenant_id = @tenant and e.log = @log");
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("log", log);
        void Condition(string clause, string name, object? value)
        {
            if (value is null)
            {
                return;
            }

            sql.Append(" and ").Append(clause);
            command.Parameters.AddWithValue(name, value);
        }

        Condition("e.actor = @actor", "actor", filter.Actor);
        Condition("e.action like @action", "action", filter.ActionPrefix is null ? null : EscapeLike(filter.ActionPrefix) + "%");
        Condition("e.target_type = @ttype", "ttype", filter.TargetType);
        Condition("e.target_id = @tid", "tid", filter.TargetId);
        Condition("e.outcome = @outcome", "outcome", filter.Outcome);
        Condition("e.occurred_at >= @from", "from", filter.From?.UtcDateTime);
        Condition("e.occurred_at < @to", "to", filter.To?.UtcDateTime);
        Condition(filter.Descending ? "e.idx < @cursor" : "e.idx > @cursor", "cursor", filter.After);
        sql.Append(filter.Descending ? " order by e.idx desc" : " order by e.idx").Append(" limit @limit");
        command.Parameters.AddWithValue("limit", filter.PageSize + 1);
        command.CommandText = sql.ToString();

        var leaves = new List<StoredLeaf>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            leaves.Add(ReadLeaf(reader, withHash: false));
        }

        return leaves;
    }

    public ILogNodes Nodes(string tenantId, string log) => new NodeReader(dataSource, tenantId, log);

    private const string ColumnList = "e.occurred_at, e.action, e.actor, e.target_type, e.target_id, e.outcome, e.service";

    private static StoredLeaf ReadLeaf(NpgsqlDataReader reader, bool withHash) => new(reader.GetInt64(0), reader.GetGuid(1), (byte[])reader[2],
        new LeafColumns(reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetString(9)),
        withHash && !reader.IsDBNull(10) ? (byte[])reader[10] : null);

    private async Task<IReadOnlyList<StoredCheckpoint>> ReadCheckpointsAsync(string sql, CancellationToken ct, params object[] values)
    {
        await using var command = Create(sql, values);
        var checkpoints = new List<StoredCheckpoint>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            checkpoints.Add(new StoredCheckpoint(reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return checkpoints;
    }

    private NpgsqlCommand Create(string sql, params object[] values)
    {
        var command = dataSource.CreateCommand(sql);
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue($"p{i}", values[i]);
        }

        return command;
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue($"p{i}", values[i]);
        }

        return command;
    }

    private static string EscapeLike(string value) => value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    /// <summary>Reads the nodes a proof needs in one query.</summary>
    private sealed class NodeReader(NpgsqlDataSource dataSource, string tenantId, string log) : ILogNodes
    {
        public async Task<IReadOnlyDictionary<NodeId, byte[]>> ReadAsync(IReadOnlyCollection<NodeId> nodes, CancellationToken ct)
        {
            await using var command = dataSource.CreateCommand("""
                select n.level, n.idx, n.hash from audit.log_nodes n
                join unnest(@levels, @indexes) as wanted(level, idx) on n.level = wanted.level and n.idx = wanted.idx
                where n.tenant_id = @tenant and n.log = @log
                """);
            command.Parameters.AddWithValue("levels", nodes.Select(n => (short)n.Level).ToArray());
            command.Parameters.AddWithValue("indexes", nodes.Select(n => n.Index).ToArray());
            command.Parameters.AddWithValue("tenant", tenantId);
            command.Parameters.AddWithValue("log", log);
            var found = new Dictionary<NodeId, byte[]>(nodes.Count);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                found[new NodeId(reader.GetInt16(0), reader.GetInt64(1))] = (byte[])reader[2];
            }

            return found;
        }
    }
}
