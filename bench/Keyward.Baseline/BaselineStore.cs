using System.Collections.Concurrent;
using System.Text.Json;
using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Keyward.Metadata.Core;
using Npgsql;
using NpgsqlTypes;

namespace Keyward.Baseline;

/// <summary>
/// The baseline's state. One process owns it, so it is held in memory (as JSON, so that each change works on its own
/// copy and a failed commit leaves nothing behind) and written through to PostgreSQL: every change is one
/// <see cref="NpgsqlBatch"/> — its rows and its audit rows in one implicit transaction, one round trip, one commit.
/// A tree's changes take turns on a semaphore instead of optimistic concurrency: no other process writes.
/// </summary>
public sealed class BaselineStore(NpgsqlDataSource database) : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly NpgsqlDataSource _database = database;

    // Keys are "tenant/id".
    private readonly ConcurrentDictionary<string, string> _folders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _rootOf = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _locks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FolderClaim> _claims = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _versions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _certificates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _turns = new(StringComparer.Ordinal);

    /// <summary>Starts from empty tables: the state is this process's alone and lives as long as it does.</summary>
    public static async Task<BaselineStore> OpenAsync(string connectionString)
    {
        // Nothing here keeps session state, so a pooled connection need not be reset (DISCARD ALL, a statement and a
        // transaction of its own) each time it is taken.
        var database = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true }.ConnectionString);
        await using var create = database.CreateCommand("""
            drop schema if exists baseline cascade;
            create schema baseline;
            create table baseline.certificates (tenant text, user_id text, pem text not null, fingerprint text not null, primary key (tenant, user_id));
            create table baseline.folders (tenant text, id text, document jsonb not null, primary key (tenant, id));
            create table baseline.tree_locks (tenant text, root_id text, document jsonb not null, primary key (tenant, root_id));
            create table baseline.claims (tenant text, id text, owner_id text not null, claimed_at timestamptz not null, primary key (tenant, id));
            create table baseline.versions (tenant text, folder_id text, number int, document jsonb not null, primary key (tenant, folder_id, number));
            create table baseline.audit (id bigserial primary key, tenant text not null, actor text not null, at timestamptz not null, event jsonb not null);
            """);
        await create.ExecuteNonQueryAsync();
        return new BaselineStore(database);
    }

    public IFolderStore FoldersOf(TenantContext caller) => new TenantFolders(this, caller);

    public IUserCertificates CertificatesOf(string tenantId) => new TenantCertificates(this, tenantId);

    public bool HasCertificate(string tenantId, string userId) => _certificates.ContainsKey(Key(tenantId, userId));

    /// <summary>Stores an issued certificate with the audit records of its issue, in one commit.</summary>
    public async Task StoreCertificateAsync(TenantContext caller, string pem, string fingerprint, IReadOnlyList<AuditRecord> audit, CancellationToken ct)
    {
        await using var batch = _database.CreateBatch();
        batch.BatchCommands.Add(Command("insert into baseline.certificates (tenant, user_id, pem, fingerprint) values ($1, $2, $3, $4)",
            caller.TenantId, caller.UserId, pem, fingerprint));
        AddAudit(batch, caller, audit);
        await batch.ExecuteNonQueryAsync(ct);
        _certificates[Key(caller.TenantId, caller.UserId)] = pem;
    }

    /// <summary>Audit records of a refusal, committed on their own (nothing else changed).</summary>
    public async Task RecordAsync(TenantContext caller, IReadOnlyList<AuditRecord> audit, CancellationToken ct)
    {
        if (audit.Count == 0)
        {
            return;
        }

        await using var batch = _database.CreateBatch();
        AddAudit(batch, caller, audit);
        await batch.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync() => await _database.DisposeAsync();

    private static string Key(string tenantId, string id) => $"{tenantId}/{id}";

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(value is JsonText json ? new NpgsqlParameter { Value = json.Text, NpgsqlDbType = NpgsqlDbType.Jsonb } : new NpgsqlParameter { Value = value });
        }

        return command;
    }

    private static void AddAudit(NpgsqlBatch batch, TenantContext caller, IEnumerable<AuditRecord> audit)
    {
        foreach (var record in audit)
        {
            batch.BatchCommands.Add(Command("insert into baseline.audit (tenant, actor, at, event) values ($1, $2, now(), $3)",
                caller.TenantId, caller.UserId, new JsonText(JsonSerializer.Serialize(record, Json))));
        }
    }

    private sealed record JsonText(string Text);

    private sealed class TenantCertificates(BaselineStore store, string tenantId) : IUserCertificates
    {
        public Task<string?> CertificateOfAsync(string userId, CancellationToken cancellationToken) =>
            Task.FromResult(store._certificates.GetValueOrDefault(Key(tenantId, userId)));
    }

    private sealed class TenantFolders(BaselineStore store, TenantContext caller) : IFolderStore
    {
        public async Task<T> ChangeAsync<T>(Func<IFolderChange, Task<T>> change, CancellationToken cancellationToken)
        {
            var folderChange = new FolderChange(store, caller);
            try
            {
                return await change(folderChange);
            }
            finally
            {
                folderChange.Release();
            }
        }

        public async Task<FolderTree?> ReadTreeAsync(string folderId, CancellationToken cancellationToken)
        {
            var change = new FolderChange(store, caller);
            try
            {
                return await change.LoadTreeAsync(folderId, cancellationToken);
            }
            finally
            {
                change.Release();
            }
        }

        // Reads the benchmarks never make: the baseline answers only lock → PUT → unlock and enrolment.
        public Task<IReadOnlyList<MetadataVersionRecorded>> VersionsAsync(string folderId, int from, int to, CancellationToken cancellationToken) =>
            throw new NotSupportedException("the baseline serves only what the benchmarks ask");

        public Task<IReadOnlyList<string>> OwnedFolderIdsAsync(string ownerId, CancellationToken cancellationToken) =>
            throw new NotSupportedException("the baseline serves only what the benchmarks ask");

        public Task<IReadOnlyList<string>> RegisteredAmongAsync(IReadOnlyCollection<string> folderIds, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<string>>(folderIds.Where(id => store._rootOf.ContainsKey(Key(caller.TenantId, id))).ToList());
    }

    /// <summary>One change: reads copies, queues its rows, and on commit writes them in one batch, then publishes them to memory.</summary>
    private sealed class FolderChange(BaselineStore store, TenantContext caller) : IFolderChange
    {
        private readonly List<NpgsqlBatchCommand> _writes = [];
        private readonly List<Action> _committed = [];
        private readonly List<AuditRecord> _audit = [];
        private readonly List<SemaphoreSlim> _held = [];
        private readonly HashSet<string> _heldKeys = new(StringComparer.Ordinal);

        private string Key(string id) => BaselineStore.Key(caller.TenantId, id);

        public async Task<FolderTree?> LoadTreeAsync(string folderId, CancellationToken cancellationToken, bool withTexts = true)
        {
            // An unknown id takes its own turn, so that two registrations of one id do not both insert it.
            var rootId = store._rootOf.GetValueOrDefault(Key(folderId)) ?? folderId;
            await TakeTurnAsync(rootId, cancellationToken);
            if (!store._folders.TryGetValue(Key(folderId), out var folderJson))
            {
                return null;
            }

            var folder = Read<EncryptedFolder>(folderJson);
            var root = folder.IsRoot ? folder : Read<EncryptedFolder>(store._folders[Key(folder.RootId)]);
            return new FolderTree(folder, root, Read<TreeLocks>(store._locks[Key(root.Id)]));
        }

        public Task<IReadOnlyList<EncryptedFolder>> LoadFoldersAsync(FolderTree tree, IEnumerable<string> ids, CancellationToken cancellationToken, bool withTexts = true) =>
            Task.FromResult<IReadOnlyList<EncryptedFolder>>(ids.Select(id =>
                id == tree.Folder.Id ? tree.Folder : id == tree.Root.Id ? tree.Root
                : store._folders.TryGetValue(Key(id), out var json) ? Read<EncryptedFolder>(json) : null).OfType<EncryptedFolder>().ToList());

        public Task<bool> HasSubfoldersAsync(string folderId, CancellationToken cancellationToken) =>
            Task.FromResult(store._folders.Values.Any(json => Read<EncryptedFolder>(json).ParentId == folderId)); // not on a measured path

        public Task<FolderClaim?> LoadClaimAsync(string folderId, CancellationToken cancellationToken) => Task.FromResult(store._claims.GetValueOrDefault(Key(folderId)));

        public Task<int> RecordedVersionsAsync(string folderId, CancellationToken cancellationToken) => Task.FromResult(store._versions.GetValueOrDefault(Key(folderId)));

        public void Insert(FolderClaim claim)
        {
            _writes.Add(Command("insert into baseline.claims (tenant, id, owner_id, claimed_at) values ($1, $2, $3, $4)", caller.TenantId, claim.Id, claim.OwnerId, claim.ClaimedAt));
            _committed.Add(() => store._claims[Key(claim.Id)] = claim);
        }

        public void Insert(EncryptedFolder folder, TreeLocks? newTreeLocks = null)
        {
            Save(folder);
            _committed.Add(() => store._rootOf[Key(folder.Id)] = folder.RootId);
            if (newTreeLocks is not null)
            {
                Save(newTreeLocks);
            }
        }

        public void Delete(EncryptedFolder folder)
        {
            _writes.Add(Command("delete from baseline.folders where tenant = $1 and id = $2", caller.TenantId, folder.Id));
            _committed.Add(() =>
            {
                store._folders.TryRemove(Key(folder.Id), out _);
                store._rootOf.TryRemove(Key(folder.Id), out _);
            });
        }

        public void Delete(TreeLocks locks)
        {
            _writes.Add(Command("delete from baseline.tree_locks where tenant = $1 and root_id = $2", caller.TenantId, locks.Id));
            _committed.Add(() => store._locks.TryRemove(Key(locks.Id), out _));
        }

        public void Save(EncryptedFolder folder)
        {
            var json = JsonSerializer.Serialize(folder, Json);
            _writes.Add(Command("insert into baseline.folders (tenant, id, document) values ($1, $2, $3) on conflict (tenant, id) do update set document = excluded.document",
                caller.TenantId, folder.Id, new JsonText(json)));
            _committed.Add(() => store._folders[Key(folder.Id)] = json);
        }

        public void Save(TreeLocks locks)
        {
            var json = JsonSerializer.Serialize(locks, Json);
            _writes.Add(Command("insert into baseline.tree_locks (tenant, root_id, document) values ($1, $2, $3) on conflict (tenant, root_id) do update set document = excluded.document",
                caller.TenantId, locks.Id, new JsonText(json)));
            _committed.Add(() => store._locks[Key(locks.Id)] = json);
        }

        public void Save(FolderTree tree)
        {
            Save(tree.Folder);
            if (tree.Root.Id != tree.Folder.Id)
            {
                Save(tree.Root);
            }

            Save(tree.Locks);
        }

        public void AppendVersion(string folderId, MetadataVersionRecorded version)
        {
            _writes.Add(Command("insert into baseline.versions (tenant, folder_id, number, document) values ($1, $2, $3, $4)",
                caller.TenantId, folderId, version.Number, new JsonText(JsonSerializer.Serialize(version, Json))));
            _committed.Add(() => store._versions[Key(folderId)] = version.Number);
        }

        public void Record(AuditRecord record) => _audit.Add(record);

        public async Task CommitAsync(CancellationToken cancellationToken)
        {
            await using var batch = store._database.CreateBatch();
            foreach (var write in _writes)
            {
                batch.BatchCommands.Add(write);
            }

            AddAudit(batch, caller, _audit);
            await batch.ExecuteNonQueryAsync(cancellationToken);
            // Several saves of one row in a change: the last one wins, in memory as in the table.
            _committed.ForEach(publish => publish());
            _writes.Clear();
            _committed.Clear();
            _audit.Clear();
        }

        public void Release()
        {
            _held.ForEach(turn => turn.Release());
            _held.Clear();
        }

        private async Task TakeTurnAsync(string rootId, CancellationToken cancellationToken)
        {
            if (!_heldKeys.Add(rootId))
            {
                return;
            }

            var turn = store._turns.GetOrAdd(Key(rootId), _ => new SemaphoreSlim(1, 1));
            await turn.WaitAsync(cancellationToken);
            _held.Add(turn);
        }

        private static T Read<T>(string json) => JsonSerializer.Deserialize<T>(json, Json)!;
    }
}
