using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.Keyserver.Core;

/// <summary>
/// Device-assisted enrollment: a new device asks with an ephemeral key, an existing device of the same user
/// approves by sealing the private key to it, the new device collects the sealed copy once. The server relays
/// sealed bytes it can never open.
/// </summary>
public sealed class DeviceEnrollment(KeyContext context)
{
    public async Task<StoredDeviceRequest> RequestAsync(string? ephemeralPublicKey, CancellationToken ct)
    {
        if (Enrollment.RsaFingerprint(ephemeralPublicKey) is null)
        {
            throw Refusal.Invalid(RefusalReason.EphemeralKeyInvalid, "the ephemeral key must be an RSA public key of 2048 bits or more (SPKI PEM)");
        }

        if ((await context.Keys.PendingDeviceRequestsAsync(context.Caller.UserId, context.Now, ct)).Count >= Enrollment.MaxPendingRequests)
        {
            throw Refusal.Exhausted($"at most {Enrollment.MaxPendingRequests} device requests may wait for approval at once", Enrollment.RequestLifetime);
        }

        var stored = new StoredDeviceRequest
        {
            Id = Guid.NewGuid().ToString("N"),
            UserId = context.Caller.UserId,
            EphemeralPublicKey = ephemeralPublicKey!,
            CreatedAt = context.Now,
            ExpiresAt = context.Now + Enrollment.RequestLifetime,
        };
        return await context.Keys.ChangeAsync(async change =>
        {
            change.Insert(stored);
            change.Record(Event("keys.device.requested", stored.Id, new Dictionary<string, string> { ["ephemeral_key_sha256"] = Enrollment.RsaFingerprint(ephemeralPublicKey)! }));
            await change.CommitAsync(ct);
            return stored;
        }, ct);
    }

    public async Task<IReadOnlyList<StoredDeviceRequest>> PendingAsync(CancellationToken ct) =>
        (await context.Keys.PendingDeviceRequestsAsync(context.Caller.UserId, context.Now, ct)).OrderBy(r => r.CreatedAt).ToList();

    public async Task<StoredDeviceRequest> ApproveAsync(string? requestId, string? sealedPrivateKey, CancellationToken ct)
    {
        if (!Enrollment.IsSealed(sealedPrivateKey))
        {
            throw Refusal.Invalid(RefusalReason.SealedKeyInvalid, "the sealed private key is missing or too large");
        }

        return await context.Keys.ChangeAsync(async change =>
        {
            var stored = await OwnAsync(change, requestId, ct);
            if (stored.Status != "pending" || stored.ExpiresAt <= context.Now)
            {
                throw Refusal.Precondition(RefusalReason.DeviceRequestExpired, "the device request was already answered or has expired");
            }

            stored.SealedPrivateKey = sealedPrivateKey;
            stored.Status = "approved";
            change.Store(stored);
            change.Record(Event("keys.device.approved", stored.Id));
            await change.CommitAsync(ct);
            return stored;
        }, ct);
    }

    /// <summary>The request as it stands; once approved, with the sealed copy, which is removed as it is handed over.</summary>
    public Task<StoredDeviceRequest> CollectAsync(string? requestId, CancellationToken ct) =>
        context.Keys.ChangeAsync(async change =>
        {
            var stored = await OwnAsync(change, requestId, ct);
            if (stored.Status == "pending")
            {
                return stored.ExpiresAt > context.Now
                    ? stored
                    : throw Refusal.Precondition(RefusalReason.DeviceRequestExpired, "the device request expired before it was approved; request again");
            }

            change.Delete<StoredDeviceRequest>(stored.Id);
            change.Record(Event("keys.device.enrolled", stored.Id));
            await change.CommitAsync(ct);
            return stored;
        }, ct);

    private async Task<StoredDeviceRequest> OwnAsync(IKeyChange change, string? requestId, CancellationToken ct)
    {
        var stored = await change.LoadAsync<StoredDeviceRequest>(requestId ?? "", ct);
        return stored is not null && stored.UserId == context.Caller.UserId
            ? stored
            : throw Refusal.NotFound(RefusalReason.DeviceRequestNotFound, "no such device request for this user");
    }

    private static AuditRecord Event(string action, string requestId, IReadOnlyDictionary<string, string>? details = null) =>
        new(action, new AuditTarget("device_request", requestId), AuditOutcome.Success, details);
}
