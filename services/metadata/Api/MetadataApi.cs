using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Keyward.Common.Audit;
using Keyward.AuditTrail;
using Keyward.Common.Auth;
using Keyward.Common.V1;
using Keyward.Metadata.Domain;
using Keyward.Metadata.Storage;
using Keyward.Metadata.V1;
using VersionInfo = Keyward.Metadata.V1.VersionInfo;
using Marten;
using JasperFx;

namespace Keyward.Metadata.Api;

/// <summary>
/// gRPC face of the metadata service. Each call is one transaction: the decision, the state change and its
/// audit event commit together (a lock → PUT → unlock cycle is three commits).
/// </summary>
public sealed class MetadataApi(TenantContext caller, FolderStore folders, AuditRecorder audit, TimeProvider clock) : MetadataService.MetadataServiceBase
{
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(MetadataSetup.ServiceName));

    public override async Task<Folder> RegisterFolder(RegisterFolderRequest request, ServerCallContext context)
    {
        RequireFolderId(request.FolderId);
        var parentId = string.IsNullOrEmpty(request.ParentId) ? null : request.ParentId;
        if (parentId is not null)
        {
            RequireFolderId(parentId);
        }

        var ct = context.CancellationToken;
        await using var session = folders.OpenSession();
        var existing = await session.LoadAsync<EncryptedFolder>(request.FolderId, ct);
        if (existing is not null)
        {
            // Setting the flag again is allowed (reference §a.3), by someone who may use the tree, at the same place.
            var tree = await FolderStore.LoadTreeAsync(session, existing.Id, ct);
            if (!FolderAccess.MayUse(tree!.Root, caller))
            {
                throw await DeniedAsync("metadata.folder.encrypted", request.FolderId, ct);
            }

            return existing.ParentId == parentId ? Describe(existing) : throw MetadataErrors.FolderRegisteredElsewhere(request.FolderId);
        }

        EncryptedFolder folder;
        if (parentId is null)
        {
            folder = new EncryptedFolder { Id = request.FolderId, RootId = request.FolderId, OwnerId = caller.UserId, CreatedAt = clock.GetUtcNow() };
            session.Insert(new TreeLocks { Id = folder.Id });
        }
        else
        {
            var parentTree = await FolderStore.LoadTreeAsync(session, parentId, ct) ?? throw MetadataErrors.FolderNotFound(parentId);
            if (!FolderAccess.MayUse(parentTree.Root, caller))
            {
                throw await DeniedAsync("metadata.folder.encrypted", request.FolderId, ct);
            }

            folder = new EncryptedFolder
            {
                Id = request.FolderId,
                RootId = parentTree.Root.Id,
                ParentId = parentId,
                AncestorIds = parentTree.Folder.PathToRoot.ToList(),
                OwnerId = parentTree.Root.OwnerId,
                CreatedAt = clock.GetUtcNow(),
            };
        }

        session.Insert(folder);
        Audit(session, "metadata.folder.encrypted", folder.Id, AuditOutcome.Success, ("root", folder.RootId), ("parent", folder.ParentId ?? ""));
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (DocumentAlreadyExistsException)
        {
            // Registered concurrently by another request: the same answer as registering again.
            return await RegisterFolder(request, context);
        }

        return Describe(folder);
    }

    public override async Task<UnregisterFolderResponse> UnregisterFolder(UnregisterFolderRequest request, ServerCallContext context)
    {
        RequireFolderId(request.FolderId);
        var ct = context.CancellationToken;
        return await folders.InTreeAsync(request.FolderId, async tree =>
        {
            if (tree is null)
            {
                throw MetadataErrors.FolderNotFound(request.FolderId);
            }

            if (!FolderAccess.MayUse(tree.Root, caller))
            {
                throw await DeniedAsync("metadata.folder.decrypted", request.FolderId, ct);
            }

            if (await tree.Session.Query<EncryptedFolder>().AnyAsync(f => f.ParentId == request.FolderId, ct))
            {
                throw MetadataErrors.FolderNotEmpty(request.FolderId);
            }

            if (tree.Locks.IsLockedAtAll(tree.Folder))
            {
                throw MetadataErrors.Locked(request.FolderId);
            }

            tree.Session.Delete(tree.Folder);
            if (tree.Folder.IsRoot)
            {
                tree.Session.Delete(tree.Locks);
            }
            else
            {
                tree.Session.Store(tree.Locks);
            }

            Audit(tree.Session, "metadata.folder.decrypted", request.FolderId, AuditOutcome.Success);
            await tree.Session.SaveChangesAsync(ct);
            return new UnregisterFolderResponse();
        }, ct);
    }

    public override async Task<FolderMetadata> GetMetadata(GetMetadataRequest request, ServerCallContext context)
    {
        RequireFolderId(request.FolderId);
        await using var session = folders.OpenSession();
        var tree = await FolderStore.LoadTreeAsync(session, request.FolderId, context.CancellationToken) ?? throw MetadataErrors.FolderNotFound(request.FolderId);
        if (!FolderAccess.MayUse(tree.Root, caller))
        {
            throw await DeniedAsync("metadata.metadata.read", request.FolderId, context.CancellationToken);
        }

        // Readers always see the committed version, never what is pending under a lock (reference §b).
        var committed = tree.Folder.Committed ?? throw MetadataErrors.MetadataNotFound(request.FolderId);
        if (request.ApiVersion == 1 && !MetadataDocument.IsVersion1(committed.Version))
        {
            throw MetadataErrors.VersionUnsupported();
        }

        return new FolderMetadata { Metadata = committed.Metadata, Signature = committed.Signature };
    }

    public override Task<FolderMetadata> CreateMetadata(WriteMetadataRequest request, ServerCallContext context) => WriteMetadata(request, create: true, context);

    public override Task<FolderMetadata> UpdateMetadata(WriteMetadataRequest request, ServerCallContext context) => WriteMetadata(request, create: false, context);

    private async Task<FolderMetadata> WriteMetadata(WriteMetadataRequest request, bool create, ServerCallContext context)
    {
        RequireFolderId(request.FolderId);
        var apiVersion = request.ApiVersion == 1 ? 1 : 2;
        var ct = context.CancellationToken;
        var action = create ? "metadata.metadata.created" : "metadata.metadata.updated";
        if (apiVersion == 2 && string.IsNullOrEmpty(request.Token))
        {
            throw MetadataErrors.TokenMissing();
        }

        if (apiVersion == 2 && string.IsNullOrEmpty(request.Signature))
        {
            throw MetadataErrors.SignatureMissing();
        }

        return await folders.InTreeAsync(request.FolderId, async tree =>
        {
            if (tree is null)
            {
                throw MetadataErrors.FolderNotFound(request.FolderId);
            }

            var folder = tree.Folder;
            if (!FolderAccess.MayUse(tree.Root, caller))
            {
                throw await DeniedAsync(action, request.FolderId, ct);
            }

            // API 1 creates without a lock (reference §a.6); everything else needs the caller's lock.
            var lockFree = apiVersion == 1 && create;
            if (!lockFree && !tree.Locks.IsHeldBy(folder, request.Token))
            {
                throw MetadataErrors.NotLocked(request.FolderId);
            }

            if (create && (folder.Committed is not null || folder.Pending is { IsDelete: false }))
            {
                throw MetadataErrors.MetadataExists(request.FolderId);
            }

            if (!create && folder.Committed is null)
            {
                throw MetadataErrors.MetadataNotFound(request.FolderId);
            }

            if (!MetadataDocument.TryInspect(request.Metadata, out var inspected))
            {
                throw MetadataErrors.MetadataInvalid();
            }

            if (apiVersion == 1 && !MetadataDocument.IsVersion1(inspected.Version)
                || apiVersion == 1 && folder.Committed is { } committed && !MetadataDocument.IsVersion1(committed.Version))
            {
                throw MetadataErrors.VersionUnsupported();
            }

            var details = new[] { ("sha256", MetadataCommit.Sha256(request.Metadata)), ("size", request.Metadata.Length.ToString(CultureInfo.InvariantCulture)) };
            if (lockFree)
            {
                var version = MetadataCommit.CommitDirectly(folder, request.Metadata, request.Signature, VersionKinds.Committed, caller.UserId, clock.GetUtcNow());
                tree.Session.Events.Append(folder.Id, version);
                Audit(tree.Session, "metadata.metadata.committed", folder.Id, AuditOutcome.Success, [.. details, ("version", version.Number.ToString(CultureInfo.InvariantCulture))]);
            }
            else
            {
                folder.Pending = new PendingMetadata(request.Metadata, request.Signature, request.Token, caller.UserId, clock.GetUtcNow());
                tree.Locks.Touch(request.Token, folder.Id);
                Audit(tree.Session, action, folder.Id, AuditOutcome.Success, details);
            }

            SaveTree(tree);
            await tree.Session.SaveChangesAsync(ct);
            return new FolderMetadata { Metadata = request.Metadata, Signature = request.Signature };
        }, ct);
    }

    public override async Task<DeleteMetadataResponse> DeleteMetadata(DeleteMetadataRequest request, ServerCallContext context)
    {
        RequireFolderId(request.FolderId);
        var apiVersion = request.ApiVersion == 1 ? 1 : 2;
        var ct = context.CancellationToken;
        if (apiVersion == 2 && string.IsNullOrEmpty(request.Token))
        {
            throw MetadataErrors.TokenMissing();
        }

        return await folders.InTreeAsync(request.FolderId, async tree =>
        {
            if (tree is null)
            {
                throw MetadataErrors.FolderNotFound(request.FolderId);
            }

            var folder = tree.Folder;
            // API 1 deletes at once and only for the owner (reference §a.6).
            var mayDelete = apiVersion == 1 ? tree.Root.OwnerId == caller.UserId : FolderAccess.MayUse(tree.Root, caller);
            if (!mayDelete)
            {
                throw await DeniedAsync("metadata.metadata.deleted", request.FolderId, ct);
            }

            if (apiVersion == 2 && !tree.Locks.IsHeldBy(folder, request.Token))
            {
                throw MetadataErrors.NotLocked(request.FolderId);
            }

            if (folder.Committed is null)
            {
                throw MetadataErrors.MetadataNotFound(request.FolderId);
            }

            if (apiVersion == 1)
            {
                if (!MetadataDocument.IsVersion1(folder.Committed.Version))
                {
                    throw MetadataErrors.VersionUnsupported();
                }

                if (tree.Locks.IsLockedAtAll(folder))
                {
                    throw MetadataErrors.Locked(request.FolderId);
                }

                folder.Pending = new PendingMetadata(null, "", "", caller.UserId, clock.GetUtcNow());
                var version = MetadataCommit.Commit(folder, caller.UserId, clock.GetUtcNow())!;
                tree.Session.Events.Append(folder.Id, version);
                Audit(tree.Session, "metadata.metadata.committed", folder.Id, AuditOutcome.Success, ("version", version.Number.ToString(CultureInfo.InvariantCulture)), ("kind", version.Kind));
            }
            else
            {
                folder.Pending = new PendingMetadata(null, folder.Committed.Signature, request.Token, caller.UserId, clock.GetUtcNow());
                tree.Locks.Touch(request.Token, folder.Id);
                Audit(tree.Session, "metadata.metadata.deleted", folder.Id, AuditOutcome.Success);
            }

            SaveTree(tree);
            await tree.Session.SaveChangesAsync(ct);
            return new DeleteMetadataResponse();
        }, ct);
    }

    public override async Task<AddFiledropResponse> AddFiledrop(AddFiledropRequest request, ServerCallContext context)
    {
        RequireFolderId(request.FolderId);
        JsonObject entries;
        try
        {
            entries = JsonNode.Parse(request.Filedrop ?? "") as JsonObject ?? throw MetadataErrors.FiledropInvalid();
        }
        catch (JsonException)
        {
            throw MetadataErrors.FiledropInvalid();
        }

        var ct = context.CancellationToken;
        return await folders.InTreeAsync(request.FolderId, async tree =>
        {
            if (tree is null || !FolderAccess.MayUse(tree.Root, caller))
            {
                throw await DeniedAsync("metadata.filedrop.added", request.FolderId, ct);
            }

            // The reference takes its own short lock: a client's lock anywhere on the path wins (412).
            if (tree.Locks.IsLockedAtAll(tree.Folder))
            {
                throw MetadataErrors.Locked(request.FolderId);
            }

            var committed = tree.Folder.Committed ?? throw MetadataErrors.MetadataNotFound(request.FolderId);
            var merged = MetadataDocument.MergeFiledrop(committed.Metadata, entries);
            var version = MetadataCommit.CommitDirectly(tree.Folder, merged, committed.Signature, VersionKinds.Filedrop, caller.UserId, clock.GetUtcNow());
            tree.Session.Events.Append(tree.Folder.Id, version);
            Audit(tree.Session, "metadata.filedrop.added", tree.Folder.Id, AuditOutcome.Success,
                ("entries", entries.Count.ToString(CultureInfo.InvariantCulture)), ("version", version.Number.ToString(CultureInfo.InvariantCulture)));
            SaveTree(tree);
            await tree.Session.SaveChangesAsync(ct);
            return new AddFiledropResponse { Filedrop = entries.ToJsonString() };
        }, ct);
    }

    public override async Task<LockResponse> Lock(LockRequest request, ServerCallContext context)
    {
        var apiVersion = request.ApiVersion == 1 ? 1 : 2;
        if (apiVersion == 2 && request.Counter <= 0)
        {
            throw MetadataErrors.CounterMissing();
        }

        RequireFolderId(request.FolderId);
        var ct = context.CancellationToken;
        return await folders.InTreeAsync(request.FolderId, async tree =>
        {
            if (tree is null || !FolderAccess.MayUse(tree.Root, caller))
            {
                throw await DeniedAsync("metadata.lock.acquired", request.FolderId, ct);
            }

            if (apiVersion == 1 && tree.Folder.Committed is { } committed && !MetadataDocument.IsVersion1(committed.Version))
            {
                throw MetadataErrors.VersionUnsupported();
            }

            var token = string.IsNullOrEmpty(request.Token) ? null : request.Token;
            var decision = tree.Locks.Acquire(tree.Folder, apiVersion == 2 ? request.Counter : null, token, caller.UserId, clock.GetUtcNow(), LockToken.New);
            switch (decision.Outcome)
            {
                case LockOutcome.Locked:
                    throw await RefusedAsync("metadata.lock.acquired", request.FolderId, "LOCKED", MetadataErrors.Locked(request.FolderId), ct);
                case LockOutcome.CounterTooSmall:
                    throw await RefusedAsync("metadata.lock.acquired", request.FolderId, "COUNTER_TOO_SMALL", MetadataErrors.CounterTooSmall(tree.Folder.Counter), ct);
                case LockOutcome.Resumed:
                    return new LockResponse { Token = decision.Token };
            }

            Audit(tree.Session, "metadata.lock.acquired", request.FolderId, AuditOutcome.Success, ("counter", request.Counter.ToString(CultureInfo.InvariantCulture)));
            SaveTree(tree);
            await tree.Session.SaveChangesAsync(ct);
            return new LockResponse { Token = decision.Token };
        }, ct);
    }

    public override async Task<UnlockResponse> Unlock(UnlockRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.Token))
        {
            throw MetadataErrors.TokenMissing();
        }

        RequireFolderId(request.FolderId);
        var ct = context.CancellationToken;
        return await folders.InTreeAsync(request.FolderId, async tree =>
        {
            if (tree is null || !FolderAccess.MayUse(tree.Root, caller))
            {
                throw await DeniedAsync("metadata.lock.released", request.FolderId, ct);
            }

            if (!tree.Locks.IsHeldBy(tree.Folder, request.Token))
            {
                throw MetadataErrors.NotLocked(request.FolderId);
            }

            // API 1 finalises only this folder; API 2 every folder touched under the token, deepest first.
            var touched = request.ApiVersion == 1
                ? tree.Locks.TouchedBy(request.Token).Where(id => id == tree.Folder.Id).ToList()
                : tree.Locks.TouchedBy(request.Token).ToList();
            var now = clock.GetUtcNow();
            var committedVersions = 0;
            foreach (var folder in (await tree.LoadFoldersAsync(touched, ct)).OrderByDescending(f => f.Depth))
            {
                if (request.Abort)
                {
                    MetadataCommit.Abort(folder);
                }
                else if (MetadataCommit.Commit(folder, caller.UserId, now) is { } version)
                {
                    tree.Session.Events.Append(folder.Id, version);
                    committedVersions++;
                    Audit(tree.Session, "metadata.metadata.committed", folder.Id, AuditOutcome.Success,
                        ("version", version.Number.ToString(CultureInfo.InvariantCulture)), ("kind", version.Kind),
                        ("counter", version.Counter.ToString(CultureInfo.InvariantCulture)), ("sha256", version.Sha256));
                }

                tree.Session.Store(folder);
            }

            if (request.ApiVersion == 1)
            {
                tree.Locks.TouchedByToken.GetValueOrDefault(request.Token)?.Remove(tree.Folder.Id);
            }
            else
            {
                tree.Locks.ForgetTouched(request.Token);
            }

            switch (tree.Locks.Release(tree.Folder.Id, request.Token))
            {
                case UnlockDecision.NoLockHere:
                    // The reference finalises first and then finds no lock row on this folder (§a.5): keep both effects.
                    SaveTree(tree);
                    await tree.Session.SaveChangesAsync(ct);
                    throw MetadataErrors.LockNotFound(request.FolderId);
                case UnlockDecision.WrongToken:
                    throw MetadataErrors.NotLocked(request.FolderId);
            }

            // A lock released without metadata written does not advance the counter (reference §b).
            tree.Folder.PendingCounter = null;
            Audit(tree.Session, request.Abort ? "metadata.lock.aborted" : "metadata.lock.released", request.FolderId, AuditOutcome.Success,
                ("committed_versions", committedVersions.ToString(CultureInfo.InvariantCulture)));
            SaveTree(tree);
            await tree.Session.SaveChangesAsync(ct);
            return new UnlockResponse();
        }, ct);
    }

    public override async Task<CheckLockResponse> CheckLock(CheckLockRequest request, ServerCallContext context)
    {
        RequireFolderId(request.FolderId);
        await using var session = folders.OpenSession();
        var tree = await FolderStore.LoadTreeAsync(session, request.FolderId, context.CancellationToken) ?? throw MetadataErrors.FolderNotFound(request.FolderId);
        if (!FolderAccess.MayUse(tree.Root, caller) && !caller.IsInRole(KeywardRoles.Service))
        {
            throw MetadataErrors.AccessDenied(request.FolderId);
        }

        return new CheckLockResponse { Held = tree.Locks.IsHeldBy(tree.Folder, request.Token) };
    }

    public override async Task<ListVersionsResponse> ListVersions(ListVersionsRequest request, ServerCallContext context)
    {
        var versions = await VersionsAsync(request.FolderId, context.CancellationToken);
        var response = new ListVersionsResponse();
        response.Versions.AddRange(versions.OrderByDescending(v => v.Number).Select(Info));
        return response;
    }

    public override async Task<MetadataVersion> GetVersion(GetVersionRequest request, ServerCallContext context)
    {
        var version = (await VersionsAsync(request.FolderId, context.CancellationToken)).FirstOrDefault(v => v.Number == request.Number)
            ?? throw MetadataErrors.VersionNotFound(request.FolderId, request.Number);
        return new MetadataVersion { Info = Info(version), Metadata = version.Metadata, Signature = version.Signature };
    }

    private async Task<IReadOnlyList<MetadataVersionRecorded>> VersionsAsync(string folderId, CancellationToken ct)
    {
        RequireFolderId(folderId);
        await using var session = folders.OpenSession();
        var tree = await FolderStore.LoadTreeAsync(session, folderId, ct) ?? throw MetadataErrors.FolderNotFound(folderId);
        if (!FolderAccess.MayReadVersions(tree.Root, caller))
        {
            throw await DeniedAsync("metadata.versions.read", folderId, ct);
        }

        var events = await session.Events.FetchStreamAsync(folderId, token: ct);
        return events.Select(e => e.Data).OfType<MetadataVersionRecorded>().ToList();
    }

    private static VersionInfo Info(MetadataVersionRecorded version) => new()
    {
        Number = version.Number,
        Kind = version.Kind,
        Counter = version.Counter,
        Sha256 = version.Sha256,
        CommittedBy = version.CommittedBy,
        CommittedAt = version.CommittedAt.ToString("O", CultureInfo.InvariantCulture),
        Size = version.Metadata.Length,
    };

    private static Folder Describe(EncryptedFolder folder) =>
        new() { FolderId = folder.Id, ParentId = folder.ParentId ?? "", RootId = folder.RootId, OwnerId = folder.OwnerId };

    private static void SaveTree(FolderTree tree)
    {
        tree.Session.Store(tree.Folder);
        if (!ReferenceEquals(tree.Root, tree.Folder))
        {
            tree.Session.Store(tree.Root);
        }

        // Always written, so that concurrent decisions in one tree conflict on its version.
        tree.Session.Store(tree.Locks);
    }

    private static void RequireFolderId(string id)
    {
        if (!FolderAccess.IsValidFolderId(id))
        {
            throw MetadataErrors.FolderIdInvalid();
        }
    }

    private void Audit(IDocumentSession session, string action, string folderId, AuditOutcome outcome, params (string Key, string Value)[] details) =>
        audit.Record(session, action, new AuditTarget("folder", folderId), outcome, details.ToDictionary(d => d.Key, d => d.Value));

    private async Task<RpcException> DeniedAsync(string action, string folderId, CancellationToken ct)
    {
        await audit.RecordAloneAsync(folders.Store, action, new AuditTarget("folder", folderId), AuditOutcome.Denied("ACCESS_DENIED"), cancellationToken: ct);
        return MetadataErrors.AccessDenied(folderId);
    }

    private async Task<RpcException> RefusedAsync(string action, string folderId, string reason, RpcException error, CancellationToken ct)
    {
        await audit.RecordAloneAsync(folders.Store, action, new AuditTarget("folder", folderId), AuditOutcome.Denied(reason), cancellationToken: ct);
        return error;
    }
}
