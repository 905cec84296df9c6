namespace Keyward.Metadata.Core;

/// <summary>
/// DELETE encrypted-files (reference §a.3, "Reset E2EE"): every encrypted folder of the trees the caller owns goes,
/// with its metadata and its tree's locks; folders of trees others own, shared with the caller, stay. The ids stay
/// claimed by the caller (they may encrypt them again); the version history is kept. One audit event per folder.
/// The reference asks for a fresh password confirmation first; Keyward has no password: the caller's token is it.
/// </summary>
public sealed class ResetFolders(FolderContext context)
{
    private const string Action = "metadata.folder.reset";

    public async Task<IReadOnlyList<string>> ExecuteAsync(CancellationToken ct)
    {
        var owned = await context.Folders.OwnedFolderIdsAsync(context.Caller.UserId, ct);
        var deleted = new List<string>();
        foreach (var id in owned)
        {
            var removed = await context.Folders.ChangeAsync(async change =>
            {
                var tree = await change.LoadTreeAsync(id, ct);
                if (tree is null || tree.Root.OwnerId != context.Caller.UserId)
                {
                    return false; // gone meanwhile (a sub-folder of a root removed before it, or unregistered)
                }

                change.Delete(tree.Folder);
                if (tree.Folder.IsRoot)
                {
                    change.Delete(tree.Locks);
                }
                else
                {
                    change.Save(tree.Locks);
                }

                change.Record(FolderContext.Success(Action, id));
                await change.CommitAsync(ct);
                return true;
            }, ct);
            if (removed)
            {
                deleted.Add(id);
            }
        }

        return deleted;
    }
}
