using Keyward.Metadata.V1;

namespace Keyward.Metadata.Core;

/// <summary>
/// DELETE meta-data/{id} (reference §a.4, §a.6): API 2 marks a pending delete under the caller's lock, committed
/// by the unlock; API 1 deletes at once, and only for the owner.
/// </summary>
public sealed class DeleteMetadata(FolderContext context)
{
    public async Task ExecuteAsync(string folderId, string token, ApiVersion apiVersion, CancellationToken ct)
    {
        FolderContext.RequireFolderId(folderId);
        var v1 = apiVersion == ApiVersion.V1;
        if (!v1 && string.IsNullOrEmpty(token))
        {
            throw MetadataRefusals.TokenMissing();
        }

        await context.Folders.ChangeAsync(async change =>
        {
            var tree = await change.LoadTreeAsync(folderId, ct) ?? throw MetadataRefusals.FolderNotFound(folderId);
            var folder = tree.Folder;
            var mayDelete = v1 ? tree.Root.OwnerId == context.Caller.UserId : FolderAccess.MayUse(tree.Root, context.Caller);
            if (!mayDelete)
            {
                throw await context.DeniedAsync("metadata.metadata.deleted", folderId, ct);
            }

            if (!v1 && !tree.Locks.IsHeldBy(folder, token))
            {
                throw MetadataRefusals.NotLocked(folderId);
            }

            var committed = folder.Committed ?? throw MetadataRefusals.MetadataNotFound(folderId);
            if (v1)
            {
                if (!MetadataDocument.IsVersion1(committed.Version))
                {
                    throw MetadataRefusals.VersionUnsupported();
                }

                if (tree.Locks.IsLockedAtAll(folder))
                {
                    throw MetadataRefusals.Locked(folderId);
                }

                folder.Pending = new PendingMetadata(null, "", "", context.Caller.UserId, context.Now);
                var version = MetadataCommit.Commit(folder, context.Caller.UserId, context.Now)!;
                change.AppendVersion(folder.Id, version);
                change.Record(FolderContext.Success("metadata.metadata.committed", folder.Id, ("version", FolderContext.Number(version.Number)), ("kind", version.Kind)));
            }
            else
            {
                folder.Pending = new PendingMetadata(null, committed.Signature, token, context.Caller.UserId, context.Now);
                tree.Locks.Touch(token, folder.Id, context.Now);
                change.Record(FolderContext.Success("metadata.metadata.deleted", folder.Id));
            }

            change.Save(tree);
            await change.CommitAsync(ct);
            return true;
        }, ct);
    }
}
