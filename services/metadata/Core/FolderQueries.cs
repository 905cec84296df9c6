using Keyward.Common.Auth;

namespace Keyward.Metadata.Core;

/// <summary>The file layer's lock check, and the versions API: reads that change nothing.</summary>
public sealed class FolderQueries(FolderContext context)
{
    /// <summary>Whether <paramref name="token"/> holds a lock covering the folder; for users of the tree and for Keyward services.</summary>
    public async Task<bool> IsLockHeldAsync(string folderId, string token, CancellationToken ct)
    {
        FolderContext.RequireFolderId(folderId);
        var tree = await context.Folders.ReadTreeAsync(folderId, ct) ?? throw MetadataRefusals.FolderNotFound(folderId);
        if (!FolderAccess.MayUse(tree.Root, context.Caller) && !context.Caller.IsInRole(KeywardRoles.Service))
        {
            throw MetadataRefusals.AccessDenied(folderId);
        }

        return tree.Locks.IsHeldBy(tree.Folder, token);
    }

    public const int MaxFindEncrypted = 1000;

    /// <summary>
    /// Which of these folder ids are encrypted folders: what the instance's WebDAV shows anyone who can list them (the
    /// flag, not the metadata), so any user of the tenant may ask.
    /// </summary>
    public async Task<IReadOnlyList<string>> EncryptedAmongAsync(IReadOnlyList<string> folderIds, CancellationToken ct)
    {
        if (folderIds.Count > MaxFindEncrypted)
        {
            throw MetadataRefusals.TooManyFolderIds(MaxFindEncrypted);
        }

        foreach (var id in folderIds)
        {
            FolderContext.RequireFolderId(id);
        }

        return folderIds.Count == 0 ? [] : await context.Folders.RegisteredAmongAsync(folderIds.Distinct(StringComparer.Ordinal).ToList(), ct);
    }

    /// <summary>Every committed version, newest first: the owner or an admin of the tenant.</summary>
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    /// <summary>A page of versions, newest first, numbered below <paramref name="before"/> (0: from the newest); the next page's cursor, 0 at the end.</summary>
    public async Task<(IReadOnlyList<MetadataVersionRecorded> Versions, int NextBefore)> VersionsAsync(string folderId, int before, int pageSize, CancellationToken ct)
    {
        if (before < 0 || pageSize is < 0 or > MaxPageSize)
        {
            throw MetadataRefusals.PageInvalid(MaxPageSize);
        }

        var folder = await ReadableAsync(folderId, ct);
        var to = before == 0 ? folder.LastVersion : Math.Min(before - 1, folder.LastVersion);
        if (to < 1)
        {
            return ([], 0);
        }

        var from = Math.Max(1, to - (pageSize == 0 ? DefaultPageSize : pageSize) + 1);
        var versions = await context.Folders.VersionsAsync(folderId, from, to, ct);
        return (versions.OrderByDescending(v => v.Number).ToList(), from > 1 ? from : 0);
    }

    public async Task<MetadataVersionRecorded> VersionAsync(string folderId, int number, CancellationToken ct)
    {
        await ReadableAsync(folderId, ct);
        return (await context.Folders.VersionsAsync(folderId, number, number, ct)).FirstOrDefault(v => v.Number == number)
            ?? throw MetadataRefusals.VersionNotFound(folderId, number);
    }

    private async Task<EncryptedFolder> ReadableAsync(string folderId, CancellationToken ct)
    {
        FolderContext.RequireFolderId(folderId);
        var tree = await context.Folders.ReadTreeAsync(folderId, ct) ?? throw MetadataRefusals.FolderNotFound(folderId);
        if (!FolderAccess.MayReadVersions(tree.Root, context.Caller))
        {
            throw await context.DeniedAsync("metadata.versions.read", folderId, ct);
        }

        return tree.Folder;
    }
}
