using System.Globalization;
using Grpc.Core;
using Keyward.AuditTrail;
using Keyward.CertificateAuthority.V1;
using Keyward.Common.Audit;
using Keyward.Common.Errors;
using Keyward.Keyserver.Domain;
using Keyward.Keyserver.Storage;
using Keyward.Keyserver.V1;
using Marten;

namespace Keyward.Keyserver.Api;

/// <summary>Device enrollment, key recovery and certificate re-issue. The server relays sealed keys; it never can open one.</summary>
public sealed partial class KeyServerApi
{
    public override async Task<DeviceRequest> RequestDevice(RequestDeviceRequest request, ServerCallContext context)
    {
        if (Enrollment.RsaFingerprint(request.EphemeralPublicKey) is null)
        {
            throw KeywardError.Create(StatusCode.InvalidArgument, "EPHEMERAL_KEY_INVALID", "the ephemeral key must be an RSA public key of 2048 bits or more (SPKI PEM)");
        }

        var now = clock.GetUtcNow();
        var stored = new StoredDeviceRequest
        {
            Id = Guid.NewGuid().ToString("N"),
            UserId = caller.UserId,
            EphemeralPublicKey = request.EphemeralPublicKey,
            Code = Enrollment.NewCode(),
            CreatedAt = now,
            ExpiresAt = now + Enrollment.RequestLifetime,
        };
        await using var session = sessions.OpenSession();
        session.Insert(stored);
        audit.Record(session, "keys.device.requested", new AuditTarget("device_request", stored.Id), AuditOutcome.Success, new Dictionary<string, string> { ["code"] = stored.Code });
        await session.SaveChangesAsync(context.CancellationToken);
        return Describe(stored, withSealed: false);
    }

    public override async Task<ListDeviceRequestsResponse> ListDeviceRequests(ListDeviceRequestsRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        await using var session = sessions.OpenQuerySession();
        var pending = await session.Query<StoredDeviceRequest>()
            .Where(r => r.UserId == caller.UserId && r.Status == "pending" && r.ExpiresAt > now)
            .ToListAsync(context.CancellationToken);
        var response = new ListDeviceRequestsResponse();
        response.Requests.AddRange(pending.OrderBy(r => r.CreatedAt).Select(r => Describe(r, withSealed: false)));
        return response;
    }

    public override async Task<DeviceRequest> ApproveDevice(ApproveDeviceRequest request, ServerCallContext context)
    {
        if (!Enrollment.IsSealed(request.SealedPrivateKey))
        {
            throw KeywardError.Create(StatusCode.InvalidArgument, "SEALED_KEY_INVALID", "the sealed private key is missing or too large");
        }

        await using var session = sessions.OpenSession();
        var stored = await OwnPendingAsync(session, request.RequestId, context.CancellationToken);
        stored.SealedPrivateKey = request.SealedPrivateKey;
        stored.Status = "approved";
        session.Store(stored);
        audit.Record(session, "keys.device.approved", new AuditTarget("device_request", stored.Id), AuditOutcome.Success);
        await session.SaveChangesAsync(context.CancellationToken);
        return Describe(stored, withSealed: false);
    }

    public override async Task<DeviceRequest> CollectDevice(CollectDeviceRequest request, ServerCallContext context)
    {
        await using var session = sessions.OpenSession();
        var stored = await session.LoadAsync<StoredDeviceRequest>(request.RequestId ?? "", context.CancellationToken);
        if (stored is null || stored.UserId != caller.UserId)
        {
            throw KeywardError.Create(StatusCode.NotFound, "DEVICE_REQUEST_NOT_FOUND", "no such device request for this user");
        }

        if (stored.Status == "pending")
        {
            return stored.ExpiresAt > clock.GetUtcNow()
                ? Describe(stored, withSealed: false)
                : throw KeywardError.Create(StatusCode.DeadlineExceeded, "DEVICE_REQUEST_EXPIRED", "the device request expired before it was approved; request again");
        }

        // Collected once: the sealed copy is removed as it is handed over.
        var answer = Describe(stored, withSealed: true);
        session.Delete(stored);
        audit.Record(session, "keys.device.enrolled", new AuditTarget("device_request", stored.Id), AuditOutcome.Success);
        await session.SaveChangesAsync(context.CancellationToken);
        return answer;
    }

    public override async Task<RecoveryPolicy> EnableRecovery(EnableRecoveryRequest request, ServerCallContext context)
    {
        if (!caller.IsAdmin)
        {
            await audit.RecordAloneAsync(store, "keys.recovery.enabled", new AuditTarget("tenant", caller.TenantId), AuditOutcome.Denied(ErrorReasons.NotAllowed), cancellationToken: context.CancellationToken);
            throw KeywardError.Create(StatusCode.PermissionDenied, ErrorReasons.NotAllowed, "only an admin may enable key recovery");
        }

        var fingerprint = Enrollment.RsaFingerprint(request.PublicKey, minimumBits: 3072)
            ?? throw KeywardError.Create(StatusCode.InvalidArgument, "RECOVERY_KEY_INVALID", "the recovery key must be an RSA public key of 3072 bits or more (SPKI PEM)");
        await using var session = sessions.OpenSession();
        session.Store(new StoredRecoveryPolicy { PublicKey = request.PublicKey, Fingerprint = fingerprint, EnabledBy = caller.UserId, EnabledAt = clock.GetUtcNow() });
        audit.Record(session, "keys.recovery.enabled", new AuditTarget("tenant", caller.TenantId), AuditOutcome.Success, new Dictionary<string, string> { ["fingerprint"] = fingerprint });
        await session.SaveChangesAsync(context.CancellationToken);
        return new RecoveryPolicy { Enabled = true, PublicKey = request.PublicKey, Fingerprint = fingerprint };
    }

    public override async Task<RecoveryPolicy> GetRecoveryPolicy(GetRecoveryPolicyRequest request, ServerCallContext context)
    {
        await using var session = sessions.OpenQuerySession();
        var policy = await session.LoadAsync<StoredRecoveryPolicy>(StoredRecoveryPolicy.SingletonId, context.CancellationToken);
        return policy is null ? new RecoveryPolicy { Enabled = false } : new RecoveryPolicy { Enabled = true, PublicKey = policy.PublicKey, Fingerprint = policy.Fingerprint };
    }

    public override async Task<Escrow> SetEscrow(SetEscrowRequest request, ServerCallContext context)
    {
        if (!Enrollment.IsSealed(request.SealedPrivateKey))
        {
            throw KeywardError.Create(StatusCode.InvalidArgument, "SEALED_KEY_INVALID", "the sealed private key is missing or too large");
        }

        await using var session = sessions.OpenSession();
        var policy = await session.LoadAsync<StoredRecoveryPolicy>(StoredRecoveryPolicy.SingletonId, context.CancellationToken)
            ?? throw KeywardError.Create(StatusCode.FailedPrecondition, "RECOVERY_DISABLED", "key recovery is not enabled for this tenant");
        session.Store(new StoredEscrow { Id = caller.UserId, SealedPrivateKey = request.SealedPrivateKey, RecoveryFingerprint = policy.Fingerprint, StoredAt = clock.GetUtcNow() });
        audit.Record(session, "keys.escrow.stored", new AuditTarget("escrow", caller.UserId), AuditOutcome.Success, new Dictionary<string, string> { ["recovery_fingerprint"] = policy.Fingerprint });
        await session.SaveChangesAsync(context.CancellationToken);
        return new Escrow { UserId = caller.UserId, RecoveryFingerprint = policy.Fingerprint };
    }

    public override async Task<Escrow> GetEscrow(GetEscrowRequest request, ServerCallContext context)
    {
        var target = new AuditTarget("escrow", request.UserId ?? "");
        if (!caller.IsAdmin)
        {
            await audit.RecordAloneAsync(store, "keys.escrow.fetched", target, AuditOutcome.Denied(ErrorReasons.NotAllowed), cancellationToken: context.CancellationToken);
            throw KeywardError.Create(StatusCode.PermissionDenied, ErrorReasons.NotAllowed, "only an admin may fetch an escrow copy");
        }

        await using var session = sessions.OpenSession();
        var escrow = await session.LoadAsync<StoredEscrow>(request.UserId ?? "", context.CancellationToken);
        audit.Record(session, "keys.escrow.fetched", target, escrow is null ? AuditOutcome.Failed("ESCROW_NOT_FOUND") : AuditOutcome.Success);
        await session.SaveChangesAsync(context.CancellationToken);
        return escrow is null
            ? throw KeywardError.Create(StatusCode.NotFound, "ESCROW_NOT_FOUND", $"no escrow copy for {request.UserId}")
            : new Escrow { UserId = escrow.Id, SealedPrivateKey = escrow.SealedPrivateKey, RecoveryFingerprint = escrow.RecoveryFingerprint };
    }

    public override async Task<Certificate> ReissueCertificate(ReissueCertificateRequest request, ServerCallContext context)
    {
        var target = new AuditTarget("certificate", request.UserId ?? "");
        if (!caller.IsAdmin)
        {
            await audit.RecordAloneAsync(store, "keys.certificate.reissued", target, AuditOutcome.Denied(ErrorReasons.NotAllowed), cancellationToken: context.CancellationToken);
            throw KeywardError.Create(StatusCode.PermissionDenied, ErrorReasons.NotAllowed, "only an admin may re-issue a certificate");
        }

        await using var session = sessions.OpenSession();
        var current = await session.LoadAsync<StoredCertificate>(request.UserId ?? "", context.CancellationToken)
            ?? throw KeywardError.Create(StatusCode.NotFound, ErrorReasons.CertificateNotFound, $"{request.UserId} has no certificate to re-issue");
        var signed = await ca.SignUserCsrAsync(new SignUserCsrRequest { UserId = current.Id, ReissueCertificatePem = current.CertificatePem }, cancellationToken: context.CancellationToken);
        var previous = current.FingerprintSha256;
        current.CertificatePem = signed.CertificatePem;
        current.FingerprintSha256 = signed.FingerprintSha256;
        current.Source = "ca";
        current.CreatedAt = clock.GetUtcNow();
        session.Store(current);
        audit.Record(session, "keys.certificate.reissued", target, AuditOutcome.Success, new Dictionary<string, string>
        {
            ["previous_fingerprint_sha256"] = previous,
            ["fingerprint_sha256"] = signed.FingerprintSha256,
        });
        await session.SaveChangesAsync(context.CancellationToken);
        return new Certificate { UserId = current.Id, CertificatePem = signed.CertificatePem };
    }

    private async Task<StoredDeviceRequest> OwnPendingAsync(Marten.IDocumentSession session, string? requestId, CancellationToken cancellationToken)
    {
        var stored = await session.LoadAsync<StoredDeviceRequest>(requestId ?? "", cancellationToken);
        if (stored is null || stored.UserId != caller.UserId)
        {
            throw KeywardError.Create(StatusCode.NotFound, "DEVICE_REQUEST_NOT_FOUND", "no such device request for this user");
        }

        if (stored.Status != "pending" || stored.ExpiresAt <= clock.GetUtcNow())
        {
            throw KeywardError.Create(StatusCode.FailedPrecondition, "DEVICE_REQUEST_EXPIRED", "the device request was already answered or has expired");
        }

        return stored;
    }

    private static DeviceRequest Describe(StoredDeviceRequest stored, bool withSealed) => new()
    {
        RequestId = stored.Id,
        UserId = stored.UserId,
        Code = stored.Code,
        Status = stored.Status,
        ExpiresAt = stored.ExpiresAt.ToString("O", CultureInfo.InvariantCulture),
        EphemeralPublicKey = stored.EphemeralPublicKey,
        SealedPrivateKey = withSealed ? stored.SealedPrivateKey ?? "" : "",
    };
}
