using System.Text.Json;
using Keyward.Common.Audit;
using Keyward.Metadata.Core;

namespace Keyward.UnitTests.Metadata;

/// <summary>
/// The folder port in memory, for the metadata rules' unit tests. Like a database it hands out copies, so a
/// change that is refused before it commits leaves nothing behind, and it keeps what committed together.
/// </summary>
public sealed class InMemoryFolderStore : IFolderStore
{
    private readonly Dictionary<string, string> _folders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _locks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<MetadataVersionRecorded>> _versions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FolderClaim> _claims = new(StringComparer.Ordinal);

    /// <summary>Audit records that committed with a change, in order.</summary>
    public List<AuditRecord> Committed { get; } = [];

    public int Commits { get; private set; }

    public Task<T> ChangeAsync<T>(Func<IFolderChange, Task<T>> change, CancellationToken cancellationToken) => change(new Change(this));

    public Task<FolderTree?> ReadTreeAsync(string folderId, CancellationToken cancellationToken) => Task.FromResult(Tree(folderId));

    public Task<IReadOnlyList<MetadataVersionRecorded>> VersionsAsync(string folderId, int from, int to, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<MetadataVersionRecorded>>(_versions.GetValueOrDefault(folderId)?.Where(v => v.Number >= from && v.Number <= to).ToList() ?? []);

    public Task<IReadOnlyList<string>> OwnedFolderIdsAsync(string ownerId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(_folders.Keys.Select(Folder).Where(f => f!.OwnerId == ownerId).OrderByDescending(f => f!.Depth).Select(f => f!.Id).ToList());

    public Task<IReadOnlyList<string>> RegisteredAmongAsync(IReadOnlyCollection<string> folderIds, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(folderIds.Where(_folders.ContainsKey).ToList());

    public EncryptedFolder? Folder(string id) => _folders.TryGetValue(id, out var json) ? JsonSerializer.Deserialize<EncryptedFolder>(json) : null;

    public TreeLocks? Locks(string rootId) => _locks.TryGetValue(rootId, out var json) ? JsonSerializer.Deserialize<TreeLocks>(json) : null;

    private FolderTree? Tree(string folderId)
    {
        var folder = Folder(folderId);
        if (folder is null)
        {
            return null;
        }

        var root = folder.IsRoot ? folder : Folder(folder.RootId)!;
        return new FolderTree(folder, root, Locks(root.Id) ?? new TreeLocks { Id = root.Id });
    }

    private sealed class Change(InMemoryFolderStore store) : IFolderChange
    {
        private readonly List<Action> _writes = [];
        private readonly List<AuditRecord> _audit = [];

        public Task<FolderTree?> LoadTreeAsync(string folderId, CancellationToken cancellationToken, bool withTexts = true) => Task.FromResult(store.Tree(folderId));

        public Task<IReadOnlyList<EncryptedFolder>> LoadFoldersAsync(FolderTree tree, IEnumerable<string> ids, CancellationToken cancellationToken, bool withTexts = true)
        {
            var known = new[] { tree.Folder, tree.Root }.DistinctBy(f => f.Id).ToDictionary(f => f.Id);
            return Task.FromResult<IReadOnlyList<EncryptedFolder>>(ids.Distinct().Select(id => known.GetValueOrDefault(id) ?? store.Folder(id)).OfType<EncryptedFolder>().ToList());
        }

        public Task<int> RecordedVersionsAsync(string folderId, CancellationToken cancellationToken) =>
            Task.FromResult(store._versions.GetValueOrDefault(folderId)?.Count ?? 0);

        public Task<bool> HasSubfoldersAsync(string folderId, CancellationToken cancellationToken) =>
            Task.FromResult(store._folders.Keys.Select(store.Folder).Any(f => f!.ParentId == folderId));

        public Task<FolderClaim?> LoadClaimAsync(string folderId, CancellationToken cancellationToken) => Task.FromResult(store._claims.GetValueOrDefault(folderId));

        public void Insert(FolderClaim claim) => _writes.Add(() => store._claims.Add(claim.Id, claim));

        public void Insert(EncryptedFolder folder, TreeLocks? newTreeLocks = null)
        {
            _writes.Add(() =>
            {
                if (!store._folders.TryAdd(folder.Id, JsonSerializer.Serialize(folder)))
                {
                    throw new InvalidOperationException($"folder {folder.Id} exists");
                }
            });
            if (newTreeLocks is not null)
            {
                Save(newTreeLocks);
            }
        }

        public void Delete(EncryptedFolder folder) => _writes.Add(() => store._folders.Remove(folder.Id));

        public void Delete(TreeLocks locks) => _writes.Add(() => store._locks.Remove(locks.Id));

        public void Save(EncryptedFolder folder)
        {
            var json = JsonSerializer.Serialize(folder);
            _writes.Add(() => store._folders[folder.Id] = json);
        }

        public void Save(TreeLocks locks)
        {
            var json = JsonSerializer.Serialize(locks);
            _writes.Add(() => store._locks[locks.Id] = json);
        }

        public void Save(FolderTree tree)
        {
            Save(tree.Folder);
            Save(tree.Root);
            Save(tree.Locks);
        }

        public void AppendVersion(string folderId, MetadataVersionRecorded version) =>
            _writes.Add(() => (store._versions.TryGetValue(folderId, out var list) ? list : store._versions[folderId] = []).Add(version));

        public void Record(AuditRecord record) => _audit.Add(record);

        public Task CommitAsync(CancellationToken cancellationToken)
        {
            _writes.ForEach(write => write());
            store.Committed.AddRange(_audit);
            store.Commits++;
            _writes.Clear();
            _audit.Clear();
            return Task.CompletedTask;
        }
    }
}

/// <summary>Audit events recorded on their own (refusals).</summary>
public sealed class RecordingAuditTrail : IAuditTrail
{
    public List<AuditRecord> Records { get; } = [];

    public Task RecordAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        Records.AddRange(records);
        return Task.CompletedTask;
    }
}

public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
