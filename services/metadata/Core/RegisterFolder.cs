namespace Keyward.Metadata.Core;

/// <summary>PUT encrypted/{id} (reference §a.3): marks a root, or a sub-folder under an encrypted parent (Keyward's parentId).</summary>
public sealed class RegisterFolder(FolderContext context)
{
    private const string Action = "metadata.folder.encrypted";

    public async Task<EncryptedFolder> ExecuteAsync(string folderId, string? parentId, CancellationToken ct)
    {
        FolderContext.RequireFolderId(folderId);
        parentId = string.IsNullOrEmpty(parentId) ? null : parentId;
        if (parentId is not null)
        {
            FolderContext.RequireFolderId(parentId);
        }

        return await context.Folders.ChangeAsync(async change =>
        {
            if (await change.LoadTreeAsync(folderId, ct) is { } existing)
            {
                // Setting the flag again is allowed (reference §a.3), by someone who may use the tree, at the same place.
                if (!FolderAccess.MayUse(existing.Root, context.Caller))
                {
                    throw await context.DeniedAsync(Action, folderId, ct);
                }

                return existing.Folder.ParentId == parentId ? existing.Folder : throw MetadataRefusals.FolderRegisteredElsewhere(folderId);
            }

            EncryptedFolder folder;
            if (parentId is null)
            {
                folder = new EncryptedFolder { Id = folderId, RootId = folderId, OwnerId = context.Caller.UserId, CreatedAt = context.Now };
            }
            else
            {
                var parent = await change.LoadTreeAsync(parentId, ct) ?? throw MetadataRefusals.FolderNotFound(parentId);
                if (!FolderAccess.MayUse(parent.Root, context.Caller))
                {
                    throw await context.DeniedAsync(Action, folderId, ct);
                }

                folder = new EncryptedFolder
                {
                    Id = folderId,
                    RootId = parent.Root.Id,
                    ParentId = parentId,
                    AncestorIds = parent.Folder.PathToRoot.ToList(),
                    OwnerId = parent.Root.OwnerId,
                    CreatedAt = context.Now,
                };
            }

            // An id belongs to the owner of the tree it was first registered in, also after it is unregistered.
            var claim = await change.LoadClaimAsync(folderId, ct);
            if (claim is not null && claim.OwnerId != folder.OwnerId)
            {
                throw await context.RefusedAsync(Action, folderId, MetadataRefusals.FolderClaimed(folderId), ct);
            }

            if (claim is null)
            {
                change.Insert(new FolderClaim { Id = folderId, OwnerId = folder.OwnerId, ClaimedAt = context.Now });
            }
            else
            {
                // Encrypted before: version numbers continue after the ones already recorded for this id.
                folder.LastVersion = await change.RecordedVersionsAsync(folderId, ct);
            }

            change.Insert(folder, folder.IsRoot ? new TreeLocks { Id = folderId } : null);

            change.Record(FolderContext.Success(Action, folder.Id, ("root", folder.RootId), ("parent", folder.ParentId ?? "")));
            await change.CommitAsync(ct);
            return folder;
        }, ct);
    }
}
