-- The audit service's tables: two verifiable logs per tenant ('audit': every action; 'keys': identity events),
-- each an RFC 9162 Merkle tree. Applied by the schema's owner role (scripts/stack, or the operator; see
-- docs/operations.md); the audit service's own role may only read and insert. Every table is append-only, also
-- for the owner: UPDATE, DELETE and TRUNCATE are refused by triggers. Idempotent.
-- The schema itself is made by the deployment (its owner may not be allowed to create schemas).
do $schema$ begin
    if not exists (select from pg_namespace where nspname = 'audit') then create schema audit; end if;
end $schema$;

-- The leaves. Every column but the key and the leaf itself is a copy for filtering; queries serve what the leaf
-- says, and verify checks that the copies agree with it.
create table if not exists audit.log_entries (
    tenant_id   text        not null,
    log         text        not null,
    idx         bigint      not null,
    event_id    uuid        not null,
    occurred_at timestamptz not null,
    action      text        not null,
    actor       text        not null,
    target_type text        not null,
    target_id   text        not null,
    outcome     text        not null,
    service     text        not null,
    leaf        bytea       not null,
    primary key (tenant_id, log, idx),
    unique (tenant_id, log, event_id)
);
create index if not exists log_entries_actor on audit.log_entries (tenant_id, log, actor, idx);
create index if not exists log_entries_action on audit.log_entries (tenant_id, log, action text_pattern_ops, idx);
create index if not exists log_entries_target on audit.log_entries (tenant_id, log, target_id, idx);
create index if not exists log_entries_time on audit.log_entries (tenant_id, log, occurred_at);

-- Perfect-subtree hashes: level 0 is the leaf hash, level l the node over 2^l leaves starting at idx·2^l.
create table if not exists audit.log_nodes (
    tenant_id text     not null,
    log       text     not null,
    level     smallint not null,
    idx       bigint   not null,
    hash      bytea    not null,
    primary key (tenant_id, log, level, idx)
);

-- Each integration's tree state (size, root, the compact range's edge); the newest is the head.
create table if not exists audit.log_states (
    tenant_id     text        not null,
    log           text        not null,
    size          bigint      not null,
    root          bytea       not null,
    edge          bytea       not null,
    integrated_at timestamptz not null default now(),
    primary key (tenant_id, log, size)
);

-- Checkpoints signed by the tenant's HSM log key (through the CA), as C2SP signed notes.
create table if not exists audit.log_checkpoints (
    tenant_id text        not null,
    log       text        not null,
    size      bigint      not null,
    note      text        not null,
    signed_at timestamptz not null default now(),
    primary key (tenant_id, log, size)
);

-- Witness cosignatures (C2SP tlog-cosignature lines) on those checkpoints.
create table if not exists audit.log_cosignatures (
    tenant_id   text        not null,
    log         text        not null,
    size        bigint      not null,
    witness     text        not null,
    line        text        not null,
    received_at timestamptz not null default now(),
    primary key (tenant_id, log, size, witness)
);

create or replace function audit.refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'the audit log is append-only: % on %.% is refused', tg_op, tg_table_schema, tg_table_name
        using errcode = 'insufficient_privilege';
end $$;

do $$
declare t text;
begin
    foreach t in array array['log_entries', 'log_nodes', 'log_states', 'log_checkpoints', 'log_cosignatures'] loop
        if not exists (select 1 from pg_trigger where tgname = t || '_append_only') then
            execute format('create trigger %I before update or delete on audit.%I for each row execute function audit.refuse_change()', t || '_append_only', t);
            execute format('create trigger %I before truncate on audit.%I for each statement execute function audit.refuse_change()', t || '_no_truncate', t);
        end if;
    end loop;
end $$;
