using JasperFx;
using Keyward.Common.Audit;
using Keyward.Common.Storage;
using Keyward.Metadata.Core;
using Marten;

namespace Keyward.Metadata.Adapters;

/// <summary>
/// Encrypted folders in Marten: a folder and its tree's lock document are loaded together, changed by a use
/// case and saved in one transaction with the audit events. The lock document is saved with optimistic
/// concurrency, so two decisions in one tree never both win; the loser is re-run against the new state.
/// </summary>
public sealed class MartenFolderStore(TenantSessions sessions, AuditRecorder audit) : IFolderStore
{
    private const int Attempts = 8;

    public async Task<T> ChangeAsync<T>(Func<IFolderChange, Task<T>> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = sessions.OpenSession();
            try
            {
                return await change(new Change(session, audit));
            }
            catch (Exception e) when (e is ConcurrencyException or DocumentAlreadyExistsException && attempt < Attempts)
            {
                // Another decision in the same tree (or a register of the same folder) committed first: decide again on fresh state.
                await Task.Delay(Random.Shared.Next(1, 5 * attempt), cancellationToken);
            }
        }
    }

    public async Task<FolderTree?> ReadTreeAsync(string folderId, CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenQuerySession();
        return await LoadTreeAsync(session, folderId, cancellationToken, new HashSet<string>());
    }

    public async Task<IReadOnlyList<MetadataVersionRecorded>> VersionsAsync(string folderId, int from, int to, CancellationToken cancellationToken)
    {
        // Version n is the stream's n-th event (numbering continues across registrations): read only the range.
        await using var session = sessions.OpenQuerySession();
        var events = await session.Events.FetchStreamAsync(folderId, version: to, fromVersion: from, token: cancellationToken);
        var versions = events.Select(e => e.Data).OfType<MetadataVersionRecorded>().Where(v => v.Number >= from && v.Number <= to).ToList();
        return await MetadataBlobs.FillAsync(session, versions, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> RegisteredAmongAsync(IReadOnlyCollection<string> folderIds, CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenQuerySession();
        var ids = folderIds.ToArray();
        return await session.Query<EncryptedFolder>().Where(f => f.Id.IsOneOf(ids)).Select(f => f.Id).ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<string>> OwnedFolderIdsAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenQuerySession();
        var folders = await session.Query<EncryptedFolder>().Where(f => f.OwnerId == ownerId).Select(f => new OwnedFolder(f.Id, f.AncestorIds.Count)).ToListAsync(cancellationToken);
        // Deepest first: a sub-folder is removed while its root still exists.
        return folders.OrderByDescending(f => f.Depth).Select(f => f.Id).ToList();
    }

    private sealed record OwnedFolder(string Id, int Depth);

    /// <summary>Also used by the stale-lock sweep, which works in every tenant's session.</summary>
    /// <summary>The folder, its root and the tree's locks, with their metadata texts; <paramref name="known"/> collects the blobs seen.</summary>
    public static async Task<FolderTree?> LoadTreeAsync(IQuerySession session, string folderId, CancellationToken cancellationToken, ISet<string> known, bool withTexts = true)
    {
        var tree = await LoadTreeWithoutTextsAsync(session, folderId, cancellationToken);
        if (tree is not null)
        {
            await MetadataBlobs.FillAsync(session, MetadataBlobs.NeedingTexts(new[] { tree.Folder, tree.Root }.DistinctBy(f => f.Id), withTexts), known, cancellationToken);
        }

        return tree;
    }

    private static async Task<FolderTree?> LoadTreeWithoutTextsAsync(IQuerySession session, string folderId, CancellationToken cancellationToken)
    {
        // One round trip for a root (the common case): the folder and the locks keyed by its own id.
        var batch = session.CreateBatchQuery();
        var folderQuery = batch.Load<EncryptedFolder>(folderId);
        var locksQuery = batch.Load<TreeLocks>(folderId);
        await batch.Execute(cancellationToken);
        var folder = await folderQuery;
        if (folder is null)
        {
            return null;
        }

        if (folder.IsRoot)
        {
            return new FolderTree(folder, folder, await locksQuery ?? new TreeLocks { Id = folder.Id });
        }

        var rootBatch = session.CreateBatchQuery();
        var rootQuery = rootBatch.Load<EncryptedFolder>(folder.RootId);
        var rootLocksQuery = rootBatch.Load<TreeLocks>(folder.RootId);
        await rootBatch.Execute(cancellationToken);
        var root = await rootQuery ?? throw new InvalidOperationException($"encrypted root {folder.RootId} of folder {folder.Id} is missing");
        return new FolderTree(folder, root, await rootLocksQuery ?? new TreeLocks { Id = root.Id });
    }

    public static async Task<IReadOnlyList<EncryptedFolder>> LoadFoldersAsync(IQuerySession session, FolderTree tree, IEnumerable<string> ids, CancellationToken cancellationToken,
        ISet<string> known, bool withTexts = true)
    {
        var blobs = known;
        var loadedById = new[] { tree.Folder, tree.Root }.DistinctBy(f => f.Id).ToDictionary(f => f.Id);
        var wanted = ids.Distinct().ToList();
        var missing = wanted.Where(id => !loadedById.ContainsKey(id)).ToArray();
        if (missing.Length > 0)
        {
            var loaded = await session.LoadManyAsync<EncryptedFolder>(cancellationToken, missing);
            await MetadataBlobs.FillAsync(session, MetadataBlobs.NeedingTexts(loaded, withTexts), blobs, cancellationToken);

            foreach (var folder in loaded)
            {
                loadedById[folder.Id] = folder;
            }
        }

        return wanted.Where(loadedById.ContainsKey).Select(id => loadedById[id]).ToList();
    }

    private sealed class Change(IDocumentSession session, AuditRecorder audit) : IFolderChange
    {
        // Metadata blobs this change has read or written: a text already stored is never written again.
        private readonly HashSet<string> _blobs = new(StringComparer.Ordinal);

        // Folders to write at commit, once each as they are then: an unlock saves every folder it finalises and then its
        // tree, which holds the same folder again (measured: four folder upserts per lock → PUT → unlock cycle, not three).
        private readonly Dictionary<string, EncryptedFolder> _saved = new(StringComparer.Ordinal);

        public Task<FolderTree?> LoadTreeAsync(string folderId, CancellationToken cancellationToken, bool withTexts = true) =>
            MartenFolderStore.LoadTreeAsync(session, folderId, cancellationToken, _blobs, withTexts);

        public Task<IReadOnlyList<EncryptedFolder>> LoadFoldersAsync(FolderTree tree, IEnumerable<string> ids, CancellationToken cancellationToken, bool withTexts = true) =>
            MartenFolderStore.LoadFoldersAsync(session, tree, ids, cancellationToken, _blobs, withTexts);

        public Task<bool> HasSubfoldersAsync(string folderId, CancellationToken cancellationToken) =>
            session.Query<EncryptedFolder>().AnyAsync(f => f.ParentId == folderId, cancellationToken);

        public Task<FolderClaim?> LoadClaimAsync(string folderId, CancellationToken cancellationToken) => session.LoadAsync<FolderClaim>(folderId, cancellationToken);

        public async Task<int> RecordedVersionsAsync(string folderId, CancellationToken cancellationToken) =>
            (int)((await session.Events.FetchStreamStateAsync(folderId, cancellationToken))?.Version ?? 0);

        public void Insert(FolderClaim claim) => session.Insert(claim);

        public void Insert(EncryptedFolder folder, TreeLocks? newTreeLocks = null)
        {
            // A new folder has no metadata yet: nothing to split off.
            session.Insert(folder);
            if (newTreeLocks is not null)
            {
                session.Insert(newTreeLocks);
            }
        }

        public void Delete(EncryptedFolder folder)
        {
            _saved.Remove(folder.Id);
            session.Delete(folder);
        }

        public void Delete(TreeLocks locks) => session.Delete(locks);

        public void Save(EncryptedFolder folder) => _saved[folder.Id] = folder;

        public void Save(TreeLocks locks) => session.Store(locks);

        public void Save(FolderTree tree)
        {
            _saved[tree.Folder.Id] = tree.Folder;
            _saved[tree.Root.Id] = tree.Root;
            session.Store(tree.Locks);
        }

        public void AppendVersion(string folderId, MetadataVersionRecorded version) => session.Events.Append(folderId, MetadataBlobs.Referring(session, version, _blobs));

        public void Record(AuditRecord record) => audit.Record(session, record);

        public Task CommitAsync(CancellationToken cancellationToken)
        {
            foreach (var folder in _saved.Values)
            {
                MetadataBlobs.Store(session, folder, _blobs);
            }

            _saved.Clear();
            return session.SaveChangesAsync(cancellationToken);
        }
    }
}
