using Keyward.Metadata.V1;

namespace Keyward.Metadata.Core;

/// <summary>
/// DELETE lock/{id} (reference §a.5, §a.6, §b): commits (or with abort drops) what was written under the token,
/// deepest folder first, then releases the lock. API 1 finalises only this folder and has no abort.
/// </summary>
public sealed class UnlockFolder(FolderContext context)
{
    /// <summary>Returns the folders whose staged file changes go with this unlock, deepest first (the locked one last).</summary>
    public async Task<IReadOnlyList<string>> ExecuteAsync(string folderId, string token, bool abort, ApiVersion apiVersion, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(token))
        {
            throw MetadataRefusals.TokenMissing();
        }

        FolderContext.RequireFolderId(folderId);
        var v1 = apiVersion == ApiVersion.V1;
        return await context.Folders.ChangeAsync<IReadOnlyList<string>>(async change =>
        {
            // Committing points the folder at the pending text's blob: the texts themselves are not read.
            var tree = await change.LoadTreeAsync(folderId, ct, withTexts: false);
            if (tree is null || !FolderAccess.MayUse(tree.Root, context.Caller))
            {
                throw await context.DeniedAsync("metadata.lock.released", folderId, ct);
            }

            if (!tree.Locks.IsHeldBy(tree.Folder, token))
            {
                throw MetadataRefusals.NotLocked(folderId);
            }

            var touched = v1 ? tree.Locks.TouchedBy(token).Where(id => id == tree.Folder.Id).ToList() : tree.Locks.TouchedBy(token).ToList();
            var committedVersions = 0;
            var finalized = new List<string>();
            foreach (var folder in (await change.LoadFoldersAsync(tree, touched, ct, withTexts: false)).OrderByDescending(f => f.Depth))
            {
                finalized.Add(folder.Id);
                if (abort)
                {
                    MetadataCommit.Abort(folder);
                }
                else if (MetadataCommit.Commit(folder, context.Caller.UserId, context.Now) is { } version)
                {
                    change.AppendVersion(folder.Id, version);
                    committedVersions++;
                    change.Record(FolderContext.Success("metadata.metadata.committed", folder.Id, ("version", FolderContext.Number(version.Number)), ("kind", version.Kind),
                        ("counter", FolderContext.Number(version.Counter)), ("sha256", version.Sha256)));
                }

                change.Save(folder);
            }

            if (v1)
            {
                tree.Locks.TouchedByToken.GetValueOrDefault(token)?.Remove(tree.Folder.Id);
            }
            else
            {
                tree.Locks.ForgetTouched(token);
            }

            switch (tree.Locks.Release(tree.Folder.Id, token))
            {
                case UnlockDecision.NoLockHere:
                    // The reference finalises first and then finds no lock row on this folder (§a.5): keep both effects.
                    change.Save(tree);
                    await change.CommitAsync(ct);
                    throw MetadataRefusals.LockNotFound(folderId);
                case UnlockDecision.WrongToken:
                    throw MetadataRefusals.NotLocked(folderId);
            }

            // A lock released without metadata written does not advance the counter (reference §b).
            tree.Folder.PendingCounter = null;
            change.Record(FolderContext.Success(abort ? "metadata.lock.aborted" : "metadata.lock.released", folderId,
                ("committed_versions", FolderContext.Number(committedVersions))));
            change.Save(tree);
            await change.CommitAsync(ct);
            return finalized.Where(id => id != tree.Folder.Id).Append(tree.Folder.Id).ToList();
        }, ct);
    }
}
