using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.Keyserver.Core;

/// <summary>
/// Opt-in key recovery per tenant: admins upload the public half of an offline recovery key; clients, warned,
/// upload their private key sealed to it; an admin fetches an escrow copy to open it offline.
/// </summary>
public sealed class Recovery(KeyContext context)
{
    public async Task<StoredRecoveryPolicy> EnableAsync(string? publicKey, CancellationToken ct)
    {
        var target = new AuditTarget("tenant", context.Caller.TenantId);
        await context.RequireAdminAsync("keys.recovery.enabled", target, "only an admin may enable key recovery", ct);
        var fingerprint = Enrollment.RsaFingerprint(publicKey, minimumBits: 3072)
            ?? throw Refusal.Invalid(RefusalReason.RecoveryKeyInvalid, "the recovery key must be an RSA public key of 3072 bits or more (SPKI PEM)");
        var policy = new StoredRecoveryPolicy { PublicKey = publicKey!, Fingerprint = fingerprint, EnabledBy = context.Caller.UserId, EnabledAt = context.Now };
        return await context.Keys.ChangeAsync(async change =>
        {
            change.Store(policy);
            change.Record(new AuditRecord("keys.recovery.enabled", target, AuditOutcome.Success, new Dictionary<string, string> { ["fingerprint"] = fingerprint }));
            await change.CommitAsync(ct);
            return policy;
        }, ct);
    }

    public Task<StoredRecoveryPolicy?> PolicyAsync(CancellationToken ct) => context.Keys.LoadAsync<StoredRecoveryPolicy>(StoredRecoveryPolicy.SingletonId, ct);

    public async Task<StoredEscrow> SetEscrowAsync(string? sealedPrivateKey, CancellationToken ct)
    {
        if (!Enrollment.IsSealed(sealedPrivateKey))
        {
            throw Refusal.Invalid(RefusalReason.SealedKeyInvalid, "the sealed private key is missing or too large");
        }

        return await context.Keys.ChangeAsync(async change =>
        {
            var policy = await change.LoadAsync<StoredRecoveryPolicy>(StoredRecoveryPolicy.SingletonId, ct)
                ?? throw Refusal.Precondition(RefusalReason.RecoveryDisabled, "key recovery is not enabled for this tenant");
            var escrow = new StoredEscrow { Id = context.Caller.UserId, SealedPrivateKey = sealedPrivateKey!, RecoveryFingerprint = policy.Fingerprint, StoredAt = context.Now };
            change.Store(escrow);
            change.Record(new AuditRecord("keys.escrow.stored", new AuditTarget("escrow", context.Caller.UserId), AuditOutcome.Success,
                new Dictionary<string, string> { ["recovery_fingerprint"] = policy.Fingerprint }));
            await change.CommitAsync(ct);
            return escrow;
        }, ct);
    }

    public async Task<StoredEscrow> GetEscrowAsync(string? userId, CancellationToken ct)
    {
        var target = new AuditTarget("escrow", userId ?? "");
        await context.RequireAdminAsync("keys.escrow.fetched", target, "only an admin may fetch an escrow copy", ct);
        var escrow = await context.Keys.ChangeAsync(async change =>
        {
            var found = await change.LoadAsync<StoredEscrow>(userId ?? "", ct);
            change.Record(new AuditRecord("keys.escrow.fetched", target, found is null ? AuditOutcome.Failed(RefusalReasons.Name(RefusalReason.EscrowNotFound)) : AuditOutcome.Success));
            await change.CommitAsync(ct);
            return found;
        }, ct);
        return escrow ?? throw Refusal.NotFound(RefusalReason.EscrowNotFound, $"no escrow copy for {userId}");
    }
}
