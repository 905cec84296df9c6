using Keyward.Metadata.V1;

namespace Keyward.Metadata.Core;

/// <summary>A lock request: API 2 carries the new counter (0 = absent); a token resumes or extends a held lock.</summary>
public sealed record LockRequestedBy(string FolderId, long Counter, string? Token, ApiVersion ApiVersion);

/// <summary>POST lock/{id} (reference §a.5, §a.6; the rules themselves are <see cref="TreeLocks.Acquire"/>). Returns the token.</summary>
public sealed class LockFolder(FolderContext context)
{
    private const string Action = "metadata.lock.acquired";

    public async Task<string> ExecuteAsync(LockRequestedBy request, CancellationToken ct)
    {
        var v1 = request.ApiVersion == ApiVersion.V1;
        if (!v1 && request.Counter <= 0)
        {
            throw MetadataRefusals.CounterMissing();
        }

        FolderContext.RequireFolderId(request.FolderId);
        return await context.Folders.ChangeAsync(async change =>
        {
            var tree = await change.LoadTreeAsync(request.FolderId, ct, withTexts: false); // a lock never reads metadata
            if (tree is null || !FolderAccess.MayUse(tree.Root, context.Caller))
            {
                throw await context.DeniedAsync(Action, request.FolderId, ct);
            }

            if (v1 && tree.Folder.Committed is { } committed && !MetadataDocument.IsVersion1(committed.Version))
            {
                throw MetadataRefusals.VersionUnsupported();
            }

            if (!v1 && request.Counter - tree.Folder.Counter > context.Rules.MaxCounterStep)
            {
                throw await context.RefusedAsync(Action, request.FolderId, MetadataRefusals.CounterTooLarge(tree.Folder.Counter, context.Rules.MaxCounterStep), ct);
            }

            var token = string.IsNullOrEmpty(request.Token) ? null : request.Token;
            var decision = tree.Locks.Acquire(tree.Folder, v1 ? null : request.Counter, token, context.Caller.UserId, context.Now, LockToken.New);
            switch (decision.Outcome)
            {
                case LockOutcome.Locked:
                    throw await context.RefusedAsync(Action, request.FolderId, MetadataRefusals.Locked(request.FolderId), ct);
                case LockOutcome.CounterTooSmall:
                    throw await context.RefusedAsync(Action, request.FolderId, MetadataRefusals.CounterTooSmall(tree.Folder.Counter), ct);
                case LockOutcome.Resumed:
                    return decision.Token!;
            }

            change.Record(FolderContext.Success(Action, request.FolderId, ("counter", FolderContext.Number(request.Counter))));
            change.Save(tree);
            await change.CommitAsync(ct);
            return decision.Token!;
        }, ct);
    }
}
