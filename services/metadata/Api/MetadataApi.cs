using System.Globalization;
using Grpc.Core;
using Keyward.Common.Auth;
using Keyward.Common.Limits;
using Keyward.Common.V1;
using Keyward.Metadata.Core;
using Keyward.Metadata.V1;
using VersionInfo = Keyward.Metadata.V1.VersionInfo;

namespace Keyward.Metadata.Api;

/// <summary>gRPC face of the metadata service: request → use case (Core/) → reply. Refusals become statuses in the common interceptor.</summary>
public sealed class MetadataApi(TenantContext caller, FolderContext folders, MetadataLimits limits, SignaturePolicyOptions signatures, IUserCertificates certificates,
    [FromKeyedServices(MetadataLimits.WriteBudget)] CallerBudget writes)
    : MetadataService.MetadataServiceBase
{
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(MetadataSetup.ServiceName));

    public override async Task<Folder> RegisterFolder(RegisterFolderRequest request, ServerCallContext context)
    {
        var folder = await new RegisterFolder(folders).ExecuteAsync(request.FolderId, request.ParentId, context.CancellationToken);
        return new Folder { FolderId = folder.Id, ParentId = folder.ParentId ?? "", RootId = folder.RootId, OwnerId = folder.OwnerId };
    }

    public override async Task<UnregisterFolderResponse> UnregisterFolder(UnregisterFolderRequest request, ServerCallContext context)
    {
        await new UnregisterFolder(folders).ExecuteAsync(request.FolderId, context.CancellationToken);
        return new UnregisterFolderResponse();
    }

    public override async Task<FolderMetadata> GetMetadata(GetMetadataRequest request, ServerCallContext context)
    {
        var committed = await new ReadMetadata(folders).ExecuteAsync(request.FolderId, request.ApiVersion, context.CancellationToken);
        return new FolderMetadata { Metadata = committed.Metadata, Signature = committed.Signature };
    }

    public override Task<FolderMetadata> CreateMetadata(WriteMetadataRequest request, ServerCallContext context) => Write(request, create: true, context);

    public override Task<FolderMetadata> UpdateMetadata(WriteMetadataRequest request, ServerCallContext context) => Write(request, create: false, context);

    public override async Task<DeleteMetadataResponse> DeleteMetadata(DeleteMetadataRequest request, ServerCallContext context)
    {
        await new DeleteMetadata(folders).ExecuteAsync(request.FolderId, request.Token, request.ApiVersion, context.CancellationToken);
        return new DeleteMetadataResponse();
    }

    public override async Task<AddFiledropResponse> AddFiledrop(AddFiledropRequest request, ServerCallContext context)
    {
        var entries = await new AddFiledrop(folders, limits, writes).ExecuteAsync(request.FolderId, request.Filedrop, context.CancellationToken);
        return new AddFiledropResponse { Filedrop = entries.ToJsonString() };
    }

    public override async Task<LockResponse> Lock(LockRequest request, ServerCallContext context)
    {
        var token = await new LockFolder(folders).ExecuteAsync(new LockRequestedBy(request.FolderId, request.Counter, request.Token, request.ApiVersion), context.CancellationToken);
        return new LockResponse { Token = token };
    }

    public override async Task<UnlockResponse> Unlock(UnlockRequest request, ServerCallContext context)
    {
        var finalized = await new UnlockFolder(folders).ExecuteAsync(request.FolderId, request.Token, request.Abort, request.ApiVersion, context.CancellationToken);
        return new UnlockResponse { FinalizedFolderIds = { finalized } };
    }

    public override async Task<BreakLockResponse> BreakLock(BreakLockRequest request, ServerCallContext context)
    {
        var broken = await new BreakLock(folders).ExecuteAsync(new LockBreakRequest(request.FolderId, request.Force, request.Reason), context.CancellationToken);
        return new BreakLockResponse { LockedBy = broken.LockedBy, LockedAt = broken.LockedAt.ToString("O", CultureInfo.InvariantCulture), RolledBackFolders = broken.RolledBack };
    }

    public override async Task<CheckLockResponse> CheckLock(CheckLockRequest request, ServerCallContext context) =>
        new() { Held = await new FolderQueries(folders).IsLockHeldAsync(request.FolderId, request.Token, context.CancellationToken) };

    public override async Task<FindEncryptedResponse> FindEncrypted(FindEncryptedRequest request, ServerCallContext context)
    {
        var response = new FindEncryptedResponse();
        response.EncryptedIds.AddRange(await new FolderQueries(folders).EncryptedAmongAsync(request.FolderIds, context.CancellationToken));
        return response;
    }

    public override async Task<ListVersionsResponse> ListVersions(ListVersionsRequest request, ServerCallContext context)
    {
        var (versions, next) = await new FolderQueries(folders).VersionsAsync(request.FolderId, request.Before, request.PageSize, context.CancellationToken);
        var response = new ListVersionsResponse { NextBefore = next };
        response.Versions.AddRange(versions.Select(Info));
        return response;
    }

    public override async Task<VersionInfo> RestoreVersion(RestoreVersionRequest request, ServerCallContext context) =>
        Info(await new RestoreVersion(folders).ExecuteAsync(request.FolderId, request.Version, request.Token, context.CancellationToken));

    public override async Task<ResetFoldersResponse> ResetFolders(ResetFoldersRequest request, ServerCallContext context)
    {
        var response = new ResetFoldersResponse();
        response.DeletedIds.AddRange(await new ResetFolders(folders).ExecuteAsync(context.CancellationToken));
        return response;
    }

    public override async Task<MetadataVersion> GetVersion(GetVersionRequest request, ServerCallContext context)
    {
        var version = await new FolderQueries(folders).VersionAsync(request.FolderId, request.Number, context.CancellationToken);
        return new MetadataVersion { Info = Info(version), Metadata = version.Metadata, Signature = version.Signature };
    }

    private async Task<FolderMetadata> Write(WriteMetadataRequest request, bool create, ServerCallContext context)
    {
        await new WriteMetadata(folders, limits, signatures, certificates, writes).ExecuteAsync(
            new MetadataWrite(request.FolderId, request.Token, request.Signature, request.Metadata, request.ApiVersion, create), context.CancellationToken);
        return new FolderMetadata { Metadata = request.Metadata, Signature = request.Signature };
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
        SignatureVerified = version.SignatureVerified,
    };
}
