namespace Keyward.Metadata.Core;

/// <summary>
/// POST /v1/folders/{id}/restore (issue #15): the tree's owner, holding a lock on the folder, commits an earlier
/// version's metadata and signature again as a new version with the next counter — the way back after a client
/// wrote metadata that breaks the other devices. Anything pending under the lock is dropped; audited.
/// The encrypted part (and the counter inside it) is the old version's: a client that insists on its own inner
/// counter growing re-encrypts what it restores (the SDK does, see keyward folder restore).
/// </summary>
public sealed class RestoreVersion(FolderContext context)
{
    private const string Action = "metadata.version.restored";

    public async Task<MetadataVersionRecorded> ExecuteAsync(string folderId, int number, string token, CancellationToken ct)
    {
        FolderContext.RequireFolderId(folderId);
        if (string.IsNullOrEmpty(token))
        {
            throw MetadataRefusals.TokenMissing();
        }

        return await context.Folders.ChangeAsync(async change =>
        {
            var tree = await change.LoadTreeAsync(folderId, ct) ?? throw MetadataRefusals.FolderNotFound(folderId);
            var folder = tree.Folder;
            if (tree.Root.OwnerId != context.Caller.UserId)
            {
                throw await context.RefusedAsync(Action, folderId, MetadataRefusals.NotOwnerOf(folderId, "restore a version"), ct);
            }

            if (!tree.Locks.IsHeldBy(folder, token))
            {
                throw MetadataRefusals.NotLocked(folderId);
            }

            var old = (await context.Folders.VersionsAsync(folderId, number, number, ct)).FirstOrDefault(v => v.Number == number)
                ?? throw MetadataRefusals.VersionNotFound(folderId, number);
            if (old.Kind == VersionKinds.Deleted)
            {
                throw MetadataRefusals.VersionNotRestorable(folderId, number);
            }

            MetadataCommit.Abort(folder);
            folder.Counter++;
            var version = MetadataCommit.CommitDirectly(folder, old.Metadata, old.Signature, VersionKinds.Restored, context.Caller.UserId, context.Now, old.SignatureVerified);
            tree.Locks.Touch(token, folder.Id, context.Now);
            change.AppendVersion(folder.Id, version);
            change.Record(FolderContext.Success(Action, folder.Id, ("restored", FolderContext.Number(number)), ("version", FolderContext.Number(version.Number)),
                ("counter", FolderContext.Number(version.Counter))));
            change.Save(tree);
            await change.CommitAsync(ct);
            return version;
        }, ct);
    }
}
