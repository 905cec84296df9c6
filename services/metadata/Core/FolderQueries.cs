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

    /// <summary>Every committed version, newest first: the owner or an admin of the tenant.</summary>
    public async Task<IReadOnlyList<MetadataVersionRecorded>> VersionsAsync(string folderId, CancellationToken ct)
    {
        FolderContext.RequireFolderId(folderId);
        var tree = await context.Folders.ReadTreeAsync(folderId, ct) ?? throw MetadataRefusals.FolderNotFound(folderId);
        if (!FolderAccess.MayReadVersions(tree.Root, context.Caller))
        {
            throw await context.DeniedAsync("metadata.versions.read", folderId, ct);
        }

        return (await context.Folders.VersionsAsync(folderId, ct)).OrderByDescending(v => v.Number).ToList();
    }

    public async Task<MetadataVersionRecorded> VersionAsync(string folderId, int number, CancellationToken ct) =>
        (await VersionsAsync(folderId, ct)).FirstOrDefault(v => v.Number == number) ?? throw MetadataRefusals.VersionNotFound(folderId, number);
}
