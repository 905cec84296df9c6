using Keyward.Common.Limits;
using Keyward.Metadata.V1;

namespace Keyward.Metadata.Core;

/// <summary>A metadata write as the client sends it: POST (create) or PUT (update) meta-data/{id}.</summary>
public sealed record MetadataWrite(string FolderId, string Token, string Signature, string Metadata, ApiVersion ApiVersion, bool Create);

/// <summary>
/// POST/PUT meta-data/{id} (reference §a.4, §a.6): under the caller's lock the text becomes the pending version,
/// committed by the unlock; API 1 creates without a lock and commits at once.
/// </summary>
public sealed class WriteMetadata(FolderContext context, MetadataLimits limits, SignaturePolicyOptions signatures, IUserCertificates certificates,
    CallerBudget? budget = null)
{
    public async Task ExecuteAsync(MetadataWrite write, CancellationToken ct)
    {
        FolderContext.RequireFolderId(write.FolderId);
        budget?.Take(context.Caller);
        var v1 = write.ApiVersion == ApiVersion.V1;
        if (!v1 && string.IsNullOrEmpty(write.Token))
        {
            throw MetadataRefusals.TokenMissing();
        }

        if (!v1 && string.IsNullOrEmpty(write.Signature))
        {
            throw MetadataRefusals.SignatureMissing();
        }

        // Echoed as a header on every read: refused here rather than breaking every later read (§i).
        if (!string.IsNullOrEmpty(write.Signature) && !MetadataSignature.IsWellFormed(write.Signature))
        {
            throw MetadataRefusals.SignatureInvalid();
        }

        var action = write.Create ? "metadata.metadata.created" : "metadata.metadata.updated";
        await context.Folders.ChangeAsync(async change =>
        {
            var tree = await change.LoadTreeAsync(write.FolderId, ct) ?? throw MetadataRefusals.FolderNotFound(write.FolderId);
            var folder = tree.Folder;
            if (!FolderAccess.MayUse(tree.Root, context.Caller))
            {
                throw await context.DeniedAsync(action, write.FolderId, ct);
            }

            // API 1 creates without a lock (reference §a.6); everything else needs the caller's lock.
            var lockFree = v1 && write.Create;
            if (!lockFree && !tree.Locks.IsHeldBy(folder, write.Token))
            {
                throw MetadataRefusals.NotLocked(write.FolderId);
            }

            if (write.Create && (folder.Committed is not null || folder.Pending is { IsDelete: false }))
            {
                throw MetadataRefusals.MetadataExists(write.FolderId);
            }

            if (!write.Create && folder.Committed is null)
            {
                throw MetadataRefusals.MetadataNotFound(write.FolderId);
            }

            // Over the size limit: refused with its reason and audited, before anything parses it.
            if (write.Metadata.Length > limits.MaxBytes)
            {
                throw await context.RefusedAsync(action, write.FolderId, MetadataRefusals.MetadataRefused(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the metadata is larger than {limits.MaxBytes:N0} bytes")), ct);
            }

            if (!MetadataDocument.TryInspect(write.Metadata, out var inspected))
            {
                throw MetadataRefusals.MetadataInvalid();
            }

            if (v1 && (!MetadataDocument.IsVersion1(inspected.Version) || folder.Committed is { } committed && !MetadataDocument.IsVersion1(committed.Version)))
            {
                throw MetadataRefusals.VersionUnsupported();
            }

            // v2 (reference §e.2): refused when malformed, and when its signature is not a member's (see MetadataSignatureCheck).
            var verified = false;
            var signatureDetail = "not checked (1.x)";
            if (!MetadataDocument.IsVersion1(inspected.Version))
            {
                if (MetadataValidation.Problem(write.Metadata, folder.IsRoot, limits) is { } problem)
                {
                    throw await context.RefusedAsync(action, write.FolderId, MetadataRefusals.MetadataRefused(problem), ct);
                }

                // A root lists its members; a sub-folder is signed by a member of its root — of the root's metadata
                // pending under the same lock when there is one (a new tree is written in one locked cycle), else its committed one.
                var members = folder.IsRoot ? inspected.UserIds
                    : tree.Root.Pending is { Metadata: { } pendingRoot } ? MetadataDocument.Inspect(pendingRoot).UserIds
                    : tree.Root.Users;
                var (signer, refused) = await MetadataSignatureCheck.CheckAsync(write.Metadata, write.Signature, members, certificates, ct);
                verified = signer is not null;
                if (!verified && signatures.Enforces(context.Caller.TenantId))
                {
                    throw await context.RefusedAsync(action, write.FolderId, MetadataRefusals.SignatureRejected(refused!), ct);
                }

                signatureDetail = verified ? $"verified ({signer})" : $"unverified, stored (audit-only policy): {refused}";
            }

            var sha256 = MetadataCommit.Sha256(write.Metadata);
            var details = new[] { ("sha256", sha256), ("size", FolderContext.Number(write.Metadata.Length)), ("signature", signatureDetail) };
            if (lockFree)
            {
                var version = MetadataCommit.CommitDirectly(folder, write.Metadata, write.Signature, VersionKinds.Committed, context.Caller.UserId, context.Now);
                change.AppendVersion(folder.Id, version);
                change.Record(FolderContext.Success("metadata.metadata.committed", folder.Id, [.. details, ("version", FolderContext.Number(version.Number))]));
            }
            else
            {
                folder.Pending = new PendingMetadata(write.Metadata, write.Signature, write.Token, context.Caller.UserId, context.Now, verified)
                {
                    Sha256 = sha256,
                    Version = inspected.Version,
                    UserIds = inspected.UserIds,
                };
                tree.Locks.Touch(write.Token, folder.Id, context.Now);
                change.Record(FolderContext.Success(action, folder.Id, details));
            }

            change.Save(tree);
            await change.CommitAsync(ct);
            return true;
        }, ct);
    }
}
