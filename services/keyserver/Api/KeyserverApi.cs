using System.Globalization;
using Grpc.Core;
using Keyward.Common.Auth;
using Keyward.Common.V1;
using Keyward.Keyserver.Core;
using Keyward.Keyserver.V1;

namespace Keyward.Keyserver.Api;

/// <summary>gRPC face of the keyserver: request → use case (Core/) → reply. Refusals become statuses in the common interceptor.</summary>
public sealed class KeyserverApi(TenantContext caller, KeyContext keys) : V1.Keyserver.KeyserverBase
{
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(KeyserverSetup.ServiceName));

    public override async Task<Certificate> CreateCertificate(CreateCertificateRequest request, ServerCallContext context) =>
        Reply(await new Certificates(keys).IssueAsync(request.CsrPem, context.CancellationToken, request.ShareToken));

    public override async Task<Certificate> StoreCertificate(StoreCertificateRequest request, ServerCallContext context) =>
        Reply(await new Certificates(keys).StoreAsync(request.CertificatePem, context.CancellationToken));

    public override async Task<GetCertificatesResponse> GetCertificates(GetCertificatesRequest request, ServerCallContext context)
    {
        var response = new GetCertificatesResponse();
        response.Certificates.AddRange((await new Certificates(keys).FindAsync(request.UserIds, context.CancellationToken)).Select(Reply));
        return response;
    }

    public override async Task<DeleteCertificateResponse> DeleteCertificate(DeleteCertificateRequest request, ServerCallContext context)
    {
        await new Certificates(keys).DeleteAsync(context.CancellationToken, request.ShareToken);
        return new DeleteCertificateResponse();
    }

    public override async Task<Certificate> ReissueCertificate(ReissueCertificateRequest request, ServerCallContext context) =>
        Reply(await new Certificates(keys).ReissueAsync(request.UserId, context.CancellationToken));

    public override async Task<PrivateKey> SetPrivateKey(SetPrivateKeyRequest request, ServerCallContext context) =>
        new() { PrivateKey_ = (await new PrivateKeys(keys).StoreAsync(request.PrivateKey, context.CancellationToken, request.ShareToken)).Blob };

    public override async Task<PrivateKey> GetPrivateKey(GetPrivateKeyRequest request, ServerCallContext context) =>
        new() { PrivateKey_ = (await new PrivateKeys(keys).GetAsync(context.CancellationToken, request.ShareToken)).Blob };

    public override async Task<DeletePrivateKeyResponse> DeletePrivateKey(DeletePrivateKeyRequest request, ServerCallContext context)
    {
        await new PrivateKeys(keys).DeleteAsync(context.CancellationToken, request.ShareToken);
        return new DeletePrivateKeyResponse();
    }

    public override async Task<ShareInfo> RegisterShare(RegisterShareRequest request, ServerCallContext context)
    {
        var share = await new PublicShares(keys).RegisterAsync(request.Token, request.OwnerId, request.NodeId, request.Permissions, context.CancellationToken);
        return new ShareInfo { Token = share.Id, OwnerId = share.OwnerId, NodeId = share.NodeId, Permissions = share.Permissions };
    }

    public override async Task<RemoveShareResponse> RemoveShare(RemoveShareRequest request, ServerCallContext context)
    {
        await new PublicShares(keys).RemoveAsync(request.Token, context.CancellationToken);
        return new RemoveShareResponse();
    }

    public override async Task<ReconcileSharesResponse> ReconcileShares(ReconcileSharesRequest request, ServerCallContext context) =>
        new() { Removed = await new PublicShares(keys).ReconcileAsync(request.Tokens, context.CancellationToken) };

    public override async Task<KeyStatus> GetKeyStatus(GetKeyStatusRequest request, ServerCallContext context)
    {
        var status = await new PrivateKeys(keys).StatusAsync(context.CancellationToken);
        return new KeyStatus { HasCertificate = status.HasCertificate, HasPrivateKey = status.HasPrivateKey, RecoveryEnabled = status.RecoveryEnabled, HasEscrow = status.HasEscrow };
    }

    public override async Task<DeviceRequest> RequestDevice(RequestDeviceRequest request, ServerCallContext context) =>
        Reply(await new DeviceEnrollment(keys).RequestAsync(request.EphemeralPublicKey, context.CancellationToken), withSealed: false);

    public override async Task<ListDeviceRequestsResponse> ListDeviceRequests(ListDeviceRequestsRequest request, ServerCallContext context)
    {
        var response = new ListDeviceRequestsResponse();
        response.Requests.AddRange((await new DeviceEnrollment(keys).PendingAsync(context.CancellationToken)).Select(r => Reply(r, withSealed: false)));
        return response;
    }

    public override async Task<DeviceRequest> ApproveDevice(ApproveDeviceRequest request, ServerCallContext context) =>
        Reply(await new DeviceEnrollment(keys).ApproveAsync(request.RequestId, request.SealedPrivateKey, context.CancellationToken), withSealed: false);

    public override async Task<DeviceRequest> CollectDevice(CollectDeviceRequest request, ServerCallContext context)
    {
        var stored = await new DeviceEnrollment(keys).CollectAsync(request.RequestId, context.CancellationToken);
        return Reply(stored, withSealed: stored.Status != "pending");
    }

    public override async Task<RecoveryPolicy> EnableRecovery(EnableRecoveryRequest request, ServerCallContext context) =>
        Reply(await new Recovery(keys).EnableAsync(request.PublicKey, context.CancellationToken));

    public override async Task<RecoveryPolicy> GetRecoveryPolicy(GetRecoveryPolicyRequest request, ServerCallContext context) =>
        Reply(await new Recovery(keys).PolicyAsync(context.CancellationToken));

    public override async Task<Escrow> SetEscrow(SetEscrowRequest request, ServerCallContext context)
    {
        var escrow = await new Recovery(keys).SetEscrowAsync(request.SealedPrivateKey, context.CancellationToken);
        return new Escrow { UserId = escrow.Id, RecoveryFingerprint = escrow.RecoveryFingerprint };
    }

    public override async Task<Escrow> GetEscrow(GetEscrowRequest request, ServerCallContext context)
    {
        var escrow = await new Recovery(keys).GetEscrowAsync(request.UserId, context.CancellationToken);
        return new Escrow { UserId = escrow.Id, SealedPrivateKey = escrow.SealedPrivateKey, RecoveryFingerprint = escrow.RecoveryFingerprint };
    }

    public override async Task<RecoveryChange> RequestRecoveryChange(RequestRecoveryChangeRequest request, ServerCallContext context) =>
        Reply(await new RecoveryChanges(keys).RequestAsync(new RecoveryChangeWanted(request.Action, request.PublicKey, request.UserId), context.CancellationToken));

    public override async Task<RecoveryChange> ApproveRecoveryChange(ApproveRecoveryChangeRequest request, ServerCallContext context) =>
        Reply(await new RecoveryChanges(keys).ApproveAsync(request.ChangeId, context.CancellationToken));

    public override async Task<ListRecoveryChangesResponse> ListRecoveryChanges(ListRecoveryChangesRequest request, ServerCallContext context)
    {
        var response = new ListRecoveryChangesResponse();
        response.Changes.AddRange((await new RecoveryChanges(keys).OpenAsync(context.CancellationToken)).Select(Reply));
        return response;
    }

    public override async Task<ListEscrowReleasesResponse> ListEscrowReleases(ListEscrowReleasesRequest request, ServerCallContext context)
    {
        var response = new ListEscrowReleasesResponse();
        response.Releases.AddRange((await new Recovery(keys).ReleasesAsync(context.CancellationToken)).Select(r => new EscrowRelease
        {
            ReleasedAt = r.ReleasedAt.ToString("O", CultureInfo.InvariantCulture),
            ReleasedTo = r.ReleasedTo,
            ApprovedBy = { r.ApprovedBy },
            RecoveryFingerprint = r.RecoveryFingerprint,
        }));
        return response;
    }

    private static RecoveryChange Reply(StoredRecoveryChange change) => new()
    {
        ChangeId = change.Id,
        Action = change.Action,
        Fingerprint = change.Fingerprint ?? "",
        UserId = change.UserId ?? "",
        RequestedBy = change.RequestedBy,
        ApprovedBy = { change.ApprovedBy },
        ApprovalsNeeded = change.ApprovalsNeeded,
        Status = change.Status,
        ExpiresAt = change.ExpiresAt.ToString("O", CultureInfo.InvariantCulture),
    };

    private static Certificate Reply(StoredCertificate certificate) => new() { UserId = certificate.Id, CertificatePem = certificate.CertificatePem };

    private static RecoveryPolicy Reply(StoredRecoveryPolicy? policy) =>
        policy is null ? new RecoveryPolicy { Enabled = false }
        : policy.Enabled ? new RecoveryPolicy { Enabled = true, PublicKey = policy.PublicKey, Fingerprint = policy.Fingerprint, PreviousFingerprints = { policy.PreviousFingerprints } }
        : new RecoveryPolicy { Enabled = false, PreviousFingerprints = { policy.PreviousFingerprints } };

    private static DeviceRequest Reply(StoredDeviceRequest stored, bool withSealed) => new()
    {
        RequestId = stored.Id,
        UserId = stored.UserId,
        Status = stored.Status,
        ExpiresAt = stored.ExpiresAt.ToString("O", CultureInfo.InvariantCulture),
        EphemeralPublicKey = stored.EphemeralPublicKey,
        SealedPrivateKey = withSealed ? stored.SealedPrivateKey ?? "" : "",
    };
}
