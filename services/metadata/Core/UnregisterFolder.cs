namespace Keyward.Metadata.Core;

/// <summary>
/// DELETE encrypted/{id} (reference §a.3): only an unlocked folder without encrypted sub-folders, and only by the
/// tree's owner or an admin (audited as such): a collaborator cannot drop the owner's folder to claim it.
/// </summary>
public sealed class UnregisterFolder(FolderContext context)
{
    private const string Action = "metadata.folder.decrypted";

    public async Task ExecuteAsync(string folderId, CancellationToken ct)
    {
        FolderContext.RequireFolderId(folderId);
        await context.Folders.ChangeAsync(async change =>
        {
            var tree = await change.LoadTreeAsync(folderId, ct) ?? throw MetadataRefusals.FolderNotFound(folderId);
            if (!FolderAccess.MayUse(tree.Root, context.Caller) && !context.Caller.IsAdmin)
            {
                throw await context.DeniedAsync(Action, folderId, ct);
            }

            var byAdmin = tree.Root.OwnerId != context.Caller.UserId;
            if (byAdmin && !context.Caller.IsAdmin)
            {
                throw await context.RefusedAsync(Action, folderId, MetadataRefusals.NotOwner(folderId), ct);
            }

            if (await change.HasSubfoldersAsync(folderId, ct))
            {
                throw MetadataRefusals.FolderNotEmpty(folderId);
            }

            if (tree.Locks.IsLockedAtAll(tree.Folder))
            {
                throw MetadataRefusals.Locked(folderId);
            }

            change.Delete(tree.Folder);
            if (tree.Folder.IsRoot)
            {
                change.Delete(tree.Locks);
            }
            else
            {
                // Written so that a concurrent decision in the same tree conflicts with this one.
                change.Save(tree.Locks);
            }

            change.Record(FolderContext.Success(Action, folderId, ("by_admin", byAdmin ? "true" : "false")));
            await change.CommitAsync(ct);
            return true;
        }, ct);
    }
}
