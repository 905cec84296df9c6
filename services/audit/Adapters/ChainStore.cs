using System.Text;
using Keyward.Audit.Core;
using Keyward.AuditTrail;
using Npgsql;
using NpgsqlTypes;

namespace Keyward.Audit.Adapters;

/// <summary>Reads and appends a tenant's chain. One transaction per tenant batch, under a lock on the tenant's head row.</summary>
public sealed class ChainStore(NpgsqlDataSource dataSource) : IChainReader
{
    /// <summary>Appends the events to the tenant's chain; returns the new head and what was appended (redeliveries are dropped).</summary>
    public async Task<(long Sequence, byte[] Hash, int Appended)> AppendAsync(string tenantId, IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using (var ensure = new NpgsqlCommand("insert into audit.chain_heads (tenant_id, sequence, hash) values (@t, 0, @h) on conflict do nothing", connection, transaction))
        {
            ensure.Parameters.AddWithValue("t", tenantId);
            ensure.Parameters.AddWithValue("h", ChainHash.Genesis);
            await ensure.ExecuteNonQueryAsync(cancellationToken);
        }

        long headSequence;
        byte[] headHash;
        await using (var head = new NpgsqlCommand("select sequence, hash from audit.chain_heads where tenant_id = @t for update", connection, transaction))
        {
            head.Parameters.AddWithValue("t", tenantId);
            await using var reader = await head.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            headSequence = reader.GetInt64(0);
            headHash = (byte[])reader[1];
        }

        var chained = new HashSet<Guid>();
        await using (var seen = new NpgsqlCommand("select event_id from audit.chain_entries where event_id = any(@ids)", connection, transaction))
        {
            seen.Parameters.AddWithValue("ids", events.Select(e => e.EventId).ToArray());
            await using var reader = await seen.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                chained.Add(reader.GetGuid(0));
            }
        }

        var entries = ChainAppend.Entries(headSequence, headHash, events, chained);
        if (entries.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return (headSequence, headHash, 0);
        }

        // Binary COPY: one round trip for the whole batch.
        await using (var import = await connection.BeginBinaryImportAsync(
            "copy audit.chain_entries (tenant_id, sequence, event_id, occurred_at, action, actor, target_type, target_id, outcome, reason, service, canonical, previous_hash, hash) from stdin (format binary)",
            cancellationToken))
        {
            foreach (var entry in entries)
            {
                var e = entry.Event;
                await import.StartRowAsync(cancellationToken);
                await import.WriteAsync(tenantId, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(entry.Sequence, NpgsqlDbType.Bigint, cancellationToken);
                await import.WriteAsync(e.EventId, NpgsqlDbType.Uuid, cancellationToken);
                await import.WriteAsync(e.OccurredAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                await import.WriteAsync(e.Action, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(e.Actor.UserId, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(e.Target.Type, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(e.Target.Id, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(e.Outcome.Result, NpgsqlDbType.Text, cancellationToken);
                if (e.Outcome.Reason is null)
                {
                    await import.WriteNullAsync(cancellationToken);
                }
                else
                {
                    await import.WriteAsync(e.Outcome.Reason, NpgsqlDbType.Text, cancellationToken);
                }

                await import.WriteAsync(e.Service, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(entry.Canonical, NpgsqlDbType.Bytea, cancellationToken);
                await import.WriteAsync(entry.PreviousHash, NpgsqlDbType.Bytea, cancellationToken);
                await import.WriteAsync(entry.Hash, NpgsqlDbType.Bytea, cancellationToken);
            }

            await import.CompleteAsync(cancellationToken);
        }

        var last = entries[^1];
        await using (var advance = new NpgsqlCommand("update audit.chain_heads set sequence = @s, hash = @h where tenant_id = @t", connection, transaction))
        {
            advance.Parameters.AddWithValue("s", last.Sequence);
            advance.Parameters.AddWithValue("h", last.Hash);
            advance.Parameters.AddWithValue("t", tenantId);
            await advance.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (last.Sequence, last.Hash, entries.Count);
    }

    public async Task<(long Sequence, byte[] Hash)> HeadAsync(string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select sequence, hash from audit.chain_heads where tenant_id = @t");
        command.Parameters.AddWithValue("t", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), (byte[])reader[1]) : (0, ChainHash.Genesis);
    }

    /// <summary>The hash of entry <paramref name="sequence"/>; the genesis value for 0.</summary>
    public async Task<byte[]?> HashAtAsync(string tenantId, long sequence, CancellationToken cancellationToken)
    {
        if (sequence == 0)
        {
            return ChainHash.Genesis;
        }

        await using var command = dataSource.CreateCommand("select hash from audit.chain_entries where tenant_id = @t and sequence = @s");
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("s", sequence);
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    public async IAsyncEnumerable<StoredEntry> RangeAsync(string tenantId, long from, long to, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "select sequence, event_id, canonical, previous_hash, hash from audit.chain_entries where tenant_id = @t and sequence between @f and @to order by sequence");
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("f", from);
        command.Parameters.AddWithValue("to", to);
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new StoredEntry(reader.GetInt64(0), reader.GetGuid(1), (byte[])reader[2], (byte[])reader[3], (byte[])reader[4]);
        }
    }

    public async Task<IReadOnlyList<StoredCheckpoint>> CheckpointsAsync(string tenantId, long from, long to, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "select sequence, hash, signed_at, checkpoint, signature, key_id from audit.checkpoints where tenant_id = @t and sequence between @f and @to order by sequence");
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("f", from);
        command.Parameters.AddWithValue("to", to);
        var checkpoints = new List<StoredCheckpoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            checkpoints.Add(new StoredCheckpoint(reader.GetInt64(0), (byte[])reader[1], reader.GetFieldValue<DateTimeOffset>(2), (byte[])reader[3], (byte[])reader[4], reader.GetString(5)));
        }

        return checkpoints;
    }

    public async Task<StoredCheckpoint?> LastCheckpointAsync(string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "select sequence, hash, signed_at, checkpoint, signature, key_id from audit.checkpoints where tenant_id = @t order by sequence desc limit 1");
        command.Parameters.AddWithValue("t", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StoredCheckpoint(reader.GetInt64(0), (byte[])reader[1], reader.GetFieldValue<DateTimeOffset>(2), (byte[])reader[3], (byte[])reader[4], reader.GetString(5))
            : null;
    }

    public async Task AddCheckpointAsync(string tenantId, StoredCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "insert into audit.checkpoints (tenant_id, sequence, hash, signed_at, checkpoint, signature, key_id) values (@t, @s, @h, @at, @c, @sig, @k) on conflict do nothing");
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("s", checkpoint.Sequence);
        command.Parameters.AddWithValue("h", checkpoint.Hash);
        command.Parameters.AddWithValue("at", checkpoint.SignedAt.UtcDateTime);
        command.Parameters.AddWithValue("c", checkpoint.Checkpoint);
        command.Parameters.AddWithValue("sig", checkpoint.Signature);
        command.Parameters.AddWithValue("k", checkpoint.KeyId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Tenants whose chain has entries after its last checkpoint.</summary>
    public async Task<IReadOnlyList<string>> TenantsWithUnsignedEntriesAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select h.tenant_id from audit.chain_heads h
            where h.sequence > coalesce((select max(c.sequence) from audit.checkpoints c where c.tenant_id = h.tenant_id), 0)
            """);
        var tenants = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            tenants.Add(reader.GetString(0));
        }

        return tenants;
    }

    public async Task<IReadOnlyList<QueriedEntry>> QueryAsync(string tenantId, EntryFilter filter, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("select sequence, event_id, occurred_at, action, actor, target_type, target_id, outcome, reason, service, canonical, hash from audit.chain_entries where tenant_id = @t");
        await using var command = dataSource.CreateCommand();
        command.Parameters.AddWithValue("t", tenantId);
        void Condition(string clause, string name, object? value)
        {
            if (value is null)
            {
                return;
            }

            sql.Append(" and ").Append(clause);
            command.Parameters.AddWithValue(name, value);
        }

        Condition("actor = @actor", "actor", filter.Actor);
        Condition("action like @action", "action", filter.ActionPrefix is null ? null : EscapeLike(filter.ActionPrefix) + "%");
        Condition("target_type = @ttype", "ttype", filter.TargetType);
        Condition("target_id = @tid", "tid", filter.TargetId);
        Condition("outcome = @outcome", "outcome", filter.Outcome);
        Condition("occurred_at >= @from", "from", filter.From?.UtcDateTime);
        Condition("occurred_at < @to", "to", filter.To?.UtcDateTime);
        Condition(filter.Descending ? "sequence < @cursor" : "sequence > @cursor", "cursor", filter.After);
        sql.Append(filter.Descending ? " order by sequence desc" : " order by sequence").Append(" limit @limit");
        command.Parameters.AddWithValue("limit", filter.PageSize + 1);
        command.CommandText = sql.ToString();

        var entries = new List<QueriedEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new QueriedEntry(reader.GetInt64(0), reader.GetGuid(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetString(9),
                Encoding.UTF8.GetString((byte[])reader[10]), Convert.ToHexStringLower((byte[])reader[11])));
        }

        return entries;
    }

    private static string EscapeLike(string value) => value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
