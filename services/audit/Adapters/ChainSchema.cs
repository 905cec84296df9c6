using Npgsql;

namespace Keyward.Audit.Adapters;

/// <summary>
/// The chain's tables, written as SQL: an append-only log guarded by a trigger is not a document store's
/// business (Marten cannot express the guard), so the audit service owns this schema directly.
/// UPDATE, DELETE and TRUNCATE on entries and checkpoints are refused by the database itself.
/// </summary>
public static class ChainSchema
{
    public const string Sql = """
        -- Made by the deployment for the audit service's own role, which may not create schemas (least privilege).
        do $schema$ begin
            if not exists (select from pg_namespace where nspname = 'audit') then create schema audit; end if;
        end $schema$;

        create table if not exists audit.chain_entries (
            tenant_id     text        not null,
            sequence      bigint      not null,
            event_id      uuid        not null,
            occurred_at   timestamptz not null,
            action        text        not null,
            actor         text        not null,
            target_type   text        not null,
            target_id     text        not null,
            outcome       text        not null,
            reason        text,
            service       text        not null,
            canonical     bytea       not null,
            previous_hash bytea       not null,
            hash          bytea       not null,
            appended_at   timestamptz not null default now(),
            primary key (tenant_id, sequence),
            unique (event_id)
        );
        create index if not exists chain_entries_actor on audit.chain_entries (tenant_id, actor, sequence);
        create index if not exists chain_entries_action on audit.chain_entries (tenant_id, action text_pattern_ops, sequence);
        create index if not exists chain_entries_target on audit.chain_entries (tenant_id, target_id, sequence);
        create index if not exists chain_entries_time on audit.chain_entries (tenant_id, occurred_at);

        create table if not exists audit.chain_heads (
            tenant_id text   primary key,
            sequence  bigint not null,
            hash      bytea  not null
        );

        create table if not exists audit.checkpoints (
            tenant_id  text        not null,
            sequence   bigint      not null,
            hash       bytea       not null,
            signed_at  timestamptz not null,
            checkpoint bytea       not null,
            signature  bytea       not null,
            key_id     text        not null,
            primary key (tenant_id, sequence)
        );

        create or replace function audit.refuse_change() returns trigger language plpgsql as $$
        begin
            raise exception 'the audit chain is append-only: % on %.% is refused', tg_op, tg_table_schema, tg_table_name
                using errcode = 'insufficient_privilege';
        end $$;

        do $$ begin
            if not exists (select 1 from pg_trigger where tgname = 'chain_entries_append_only') then
                create trigger chain_entries_append_only before update or delete on audit.chain_entries
                    for each row execute function audit.refuse_change();
                create trigger chain_entries_no_truncate before truncate on audit.chain_entries
                    for each statement execute function audit.refuse_change();
                create trigger checkpoints_append_only before update or delete on audit.checkpoints
                    for each row execute function audit.refuse_change();
                create trigger checkpoints_no_truncate before truncate on audit.checkpoints
                    for each statement execute function audit.refuse_change();
            end if;
        end $$;
        """;

    public static async Task ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Two replicas starting together must not race on the DDL.
        await using (var advisory = new NpgsqlCommand("select pg_advisory_lock(727161)", connection))
        {
            await advisory.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await using var command = new NpgsqlCommand(Sql, connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock(727161)", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}

/// <summary>Applies the chain schema before the consumer starts, waiting for PostgreSQL if it is not up yet.</summary>
public sealed class ChainSchemaMigration(NpgsqlDataSource dataSource, ILogger<ChainSchemaMigration> logger) : IHostedService, Keyward.Common.Hosting.ISchemaMigration
{
    public Task ApplyAsync(CancellationToken cancellationToken) => StartAsync(cancellationToken);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ChainSchema.ApplyAsync(dataSource, cancellationToken);
                return;
            }
            catch (NpgsqlException e) when (attempt < 60)
            {
                logger.LogWarning("Audit chain schema not applied yet ({Reason}); retrying", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
