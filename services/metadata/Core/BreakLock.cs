namespace Keyward.Metadata.Core;

/// <summary>What a lock was broken for: the caller's own idle lock, or (an admin) any lock, with a reason.</summary>
public sealed record LockBreakRequest(string FolderId, bool Force, string? Reason);

/// <summary>The lock that was broken, and the folders whose uncommitted writes were dropped with it.</summary>
public sealed record BrokenLock(string LockedBy, DateTimeOffset LockedAt, int RolledBack);

/// <summary>
/// Breaks a lock without its token, rolling back what was written under it as an abort does (stuck locks are the
/// most common E2EE complaint of Nextcloud's users: android #2256, desktop #2593). The user holding the lock may
/// break it once it has been idle for <see cref="FolderRules.LockIdleBreakAfter"/>; an admin may force any lock,
/// with a reason that goes into the audit trail. Both are audited; refusals too.
/// </summary>
public sealed class BreakLock(FolderContext context)
{
    public const int MaxReasonLength = 500;

    public async Task<BrokenLock> ExecuteAsync(LockBreakRequest request, CancellationToken ct)
    {
        FolderContext.RequireFolderId(request.FolderId);
        var action = request.Force ? "metadata.lock.forced" : "metadata.lock.broken";
        var reason = request.Reason?.Trim() ?? "";
        if (request.Force && (reason.Length is 0 or > MaxReasonLength || reason.Any(char.IsControl)))
        {
            throw MetadataRefusals.ReasonRequired();
        }

        if (request.Force && !context.Caller.IsAdmin)
        {
            throw await context.RefusedAsync(action, request.FolderId, MetadataRefusals.AdminOnly(), ct);
        }

        return await context.Folders.ChangeAsync(async change =>
        {
            var tree = await change.LoadTreeAsync(request.FolderId, ct, withTexts: false);
            // An admin acts in the tenant (the session is the tenant's); a user only on folders they may use.
            if (tree is null || (!request.Force && !FolderAccess.MayUse(tree.Root, context.Caller)))
            {
                throw await context.DeniedAsync(action, request.FolderId, ct);
            }

            var decision = tree.Locks.MayBreak(request.FolderId, context.Caller.UserId, request.Force, context.Now, context.Rules.LockIdleBreakAfter);
            switch (decision.Outcome)
            {
                case BreakOutcome.NoLock:
                    throw MetadataRefusals.LockNotFound(request.FolderId);
                case BreakOutcome.NotHolder:
                    throw await context.RefusedAsync(action, request.FolderId, MetadataRefusals.NotLockHolder(request.FolderId), ct);
                case BreakOutcome.StillInUse:
                    throw await context.RefusedAsync(action, request.FolderId, MetadataRefusals.LockInUse(request.FolderId, decision.Idle, context.Rules.LockIdleBreakAfter), ct);
            }

            var broken = decision.Lock!;
            var lockedFolders = tree.Locks.Locks.Where(l => l.Token == broken.Token).Select(l => l.FolderId);
            var rolledBack = 0;
            foreach (var folder in await change.LoadFoldersAsync(tree, tree.Locks.TouchedBy(broken.Token).Concat(lockedFolders).Distinct().ToList(), ct, withTexts: false))
            {
                rolledBack += MetadataCommit.Abort(folder) ? 1 : 0;
                change.Save(folder);
            }

            tree.Locks.DropToken(broken.Token);
            var details = new List<(string, string)>
            {
                ("locked_by", broken.LockedBy),
                ("locked_at", broken.LockedAt.ToString("O")),
                ("idle_seconds", FolderContext.Number((long)decision.Idle.TotalSeconds)),
                ("rolled_back_folders", FolderContext.Number(rolledBack)),
            };
            if (request.Force)
            {
                details.Add(("reason", reason));
            }

            change.Record(FolderContext.Success(action, request.FolderId, [.. details]));
            change.Save(tree);
            await change.CommitAsync(ct);
            return new BrokenLock(broken.LockedBy, broken.LockedAt, rolledBack);
        }, ct);
    }
}
