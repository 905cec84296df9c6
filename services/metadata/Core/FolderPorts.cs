using Keyward.Common.Audit;

namespace Keyward.Metadata.Core;

/// <summary>Where encrypted folders live. The Marten adapter is the production one; unit tests use one in memory.</summary>
public interface IFolderStore
{
    /// <summary>
    /// Runs <paramref name="change"/> as one transaction (it commits through <see cref="IFolderChange.CommitAsync"/>).
    /// When a concurrent change of the same tree commits first, the change runs again on the new state.
    /// </summary>
    Task<T> ChangeAsync<T>(Func<IFolderChange, Task<T>> change, CancellationToken cancellationToken);

    /// <summary>A folder with its root and the tree's locks, read without changing anything; null when not registered.</summary>
    Task<FolderTree?> ReadTreeAsync(string folderId, CancellationToken cancellationToken);

    /// <summary>The committed versions numbered <paramref name="from"/> to <paramref name="to"/> (inclusive), oldest first; only those are read.</summary>
    Task<IReadOnlyList<MetadataVersionRecorded>> VersionsAsync(string folderId, int from, int to, CancellationToken cancellationToken);

    /// <summary>The ids of every encrypted folder (roots and sub-folders) of trees the user owns.</summary>
    Task<IReadOnlyList<string>> OwnedFolderIdsAsync(string ownerId, CancellationToken cancellationToken);

    /// <summary>Which of <paramref name="folderIds"/> are registered encrypted folders (one query).</summary>
    Task<IReadOnlyList<string>> RegisteredAmongAsync(IReadOnlyCollection<string> folderIds, CancellationToken cancellationToken);
}

/// <summary>One transaction over encrypted folders: what it reads, what it changes, and the audit events that commit with it.</summary>
public interface IFolderChange
{
    /// <summary>The folder, its root and the tree's locks; without <paramref name="withTexts"/> the metadata texts may be left unread (locks and unlocks do not need them).</summary>
    Task<FolderTree?> LoadTreeAsync(string folderId, CancellationToken cancellationToken, bool withTexts = true);

    /// <summary>Other folders of the tree (those touched under a token), reusing the ones the tree already holds.</summary>
    Task<IReadOnlyList<EncryptedFolder>> LoadFoldersAsync(FolderTree tree, IEnumerable<string> ids, CancellationToken cancellationToken, bool withTexts = true);

    Task<bool> HasSubfoldersAsync(string folderId, CancellationToken cancellationToken);

    Task<FolderClaim?> LoadClaimAsync(string folderId, CancellationToken cancellationToken);

    /// <summary>How many versions the folder id has recorded, across earlier registrations (numbering continues).</summary>
    Task<int> RecordedVersionsAsync(string folderId, CancellationToken cancellationToken);

    /// <summary>Claims an id for its owner at its first registration; a concurrent first claim re-runs the change.</summary>
    void Insert(FolderClaim claim);

    /// <summary>A new folder (a new root also brings its tree's lock document); a concurrent register of the same id re-runs the change.</summary>
    void Insert(EncryptedFolder folder, TreeLocks? newTreeLocks = null);

    void Delete(EncryptedFolder folder);

    void Delete(TreeLocks locks);

    void Save(EncryptedFolder folder);

    void Save(TreeLocks locks);

    /// <summary>Saves the folder, its root and the tree's locks: the locks always, so that concurrent decisions in one tree conflict.</summary>
    void Save(FolderTree tree);

    void AppendVersion(string folderId, MetadataVersionRecorded version);

    void Record(AuditRecord record);

    Task CommitAsync(CancellationToken cancellationToken);
}

/// <summary>A folder, its root and its tree's locks, as one decision sees them.</summary>
public sealed record FolderTree(EncryptedFolder Folder, EncryptedFolder Root, TreeLocks Locks);
