using JasperFx;
using Keyward.Common.Storage;
using Keyward.Metadata.Domain;
using Marten;

namespace Keyward.Metadata.Storage;

/// <summary>
/// Loads a folder with its root and the tree's locks, lets the caller decide, and saves everything in one
/// transaction. The tree's lock document is saved with optimistic concurrency: two decisions in one tree
/// never both win; the loser is re-run against the new state.
/// </summary>
public sealed class FolderStore(TenantSessions sessions, IDocumentStore store)
{
    public IDocumentStore Store => store;

    private const int Attempts = 8;

    public IQuerySession OpenQuerySession() => sessions.OpenQuerySession();

    public IDocumentSession OpenSession() => sessions.OpenSession();

    /// <summary>Runs <paramref name="decide"/> on the folder's tree; it saves the session itself. Null tree: the folder is not registered.</summary>
    public async Task<T> InTreeAsync<T>(string folderId, Func<FolderTree?, Task<T>> decide, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = sessions.OpenSession();
            var tree = await LoadTreeAsync(session, folderId, cancellationToken);
            try
            {
                return await decide(tree);
            }
            catch (ConcurrencyException) when (attempt < Attempts)
            {
                // Another decision in the same tree committed first: decide again on fresh state.
                await Task.Delay(Random.Shared.Next(1, 5 * attempt), cancellationToken);
            }
        }
    }

    public static async Task<FolderTree?> LoadTreeAsync(IDocumentSession session, string folderId, CancellationToken cancellationToken)
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
            return new FolderTree(session, folder, folder, await locksQuery ?? new TreeLocks { Id = folder.Id });
        }

        var rootBatch = session.CreateBatchQuery();
        var rootQuery = rootBatch.Load<EncryptedFolder>(folder.RootId);
        var rootLocksQuery = rootBatch.Load<TreeLocks>(folder.RootId);
        await rootBatch.Execute(cancellationToken);
        var root = await rootQuery ?? throw new InvalidOperationException($"encrypted root {folder.RootId} of folder {folder.Id} is missing");
        return new FolderTree(session, folder, root, await rootLocksQuery ?? new TreeLocks { Id = root.Id });
    }
}

/// <summary>A folder, its root and its tree's locks, loaded in one session.</summary>
public sealed record FolderTree(IDocumentSession Session, EncryptedFolder Folder, EncryptedFolder Root, TreeLocks Locks)
{
    /// <summary>Loads other folders of the tree (the ones touched under a token), reusing those already loaded.</summary>
    public async Task<List<EncryptedFolder>> LoadFoldersAsync(IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var known = new[] { Folder, Root }.DistinctBy(f => f.Id).ToDictionary(f => f.Id);
        var missing = ids.Where(id => !known.ContainsKey(id)).Distinct().ToArray();
        if (missing.Length > 0)
        {
            foreach (var folder in await Session.LoadManyAsync<EncryptedFolder>(cancellationToken, missing))
            {
                known[folder.Id] = folder;
            }
        }

        return ids.Distinct().Where(known.ContainsKey).Select(id => known[id]).ToList();
    }
}
