using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.Keyserver.Core;

/// <summary>
/// Opt-in key recovery per tenant: admins upload the public half of an offline recovery key, once; clients escrow
/// their private key sealed to it only after the user consented to that key's fingerprint; an escrow copy goes to an
/// admin only under a release M of N admins approved (<see cref="RecoveryChanges"/>), and the user is told.
/// </summary>
public sealed class Recovery(KeyContext context)
{
    public async Task<StoredRecoveryPolicy> EnableAsync(string? publicKey, CancellationToken ct)
    {
        var target = new AuditTarget("tenant", context.Caller.TenantId);
        await context.RequireAdminAsync("keys.recovery.enabled", target, "only an admin may enable key recovery", ct);
        var fingerprint = Enrollment.RsaFingerprint(publicKey, minimumBits: 3072)
            ?? throw Refusal.Invalid(RefusalReason.RecoveryKeyInvalid, "the recovery key must be an RSA public key of 3072 bits or more (SPKI PEM)");
        try
        {
            return await context.Keys.ChangeAsync(async change =>
            {
                // Insert-once while on: a second admin cannot swap the key users consented to (adversary (b)). After M admins
                // disabled recovery it may be turned on again, the earlier keys staying in the history.
                var earlier = await change.LoadAsync<StoredRecoveryPolicy>(StoredRecoveryPolicy.SingletonId, ct);
                if (earlier is { Enabled: true })
                {
                    throw new KeyAlreadyStoredException(new InvalidOperationException("recovery is on"));
                }

                var policy = new StoredRecoveryPolicy
                {
                    PublicKey = publicKey!,
                    Fingerprint = fingerprint,
                    EnabledBy = context.Caller.UserId,
                    EnabledAt = context.Now,
                    PreviousFingerprints = earlier?.PreviousFingerprints ?? [],
                };
                if (earlier is null)
                {
                    change.Insert(policy);
                }
                else
                {
                    change.Store(policy);
                }

                change.Record(new AuditRecord("keys.recovery.enabled", target, AuditOutcome.Success, new Dictionary<string, string> { ["fingerprint"] = fingerprint }));
                await change.CommitAsync(ct);
                return policy;
            }, ct);
        }
        catch (KeyAlreadyStoredException)
        {
            throw await context.RefusedAsync("keys.recovery.enabled", target,
                Refusal.Exists(RefusalReason.RecoveryKeySet, "key recovery is already on; its key changes only by a rotation that several admins approve"), ct);
        }
    }

    /// <summary>The policy, also when disabled (its key history stays visible).</summary>
    public Task<StoredRecoveryPolicy?> PolicyAsync(CancellationToken ct) => context.Keys.LoadAsync<StoredRecoveryPolicy>(StoredRecoveryPolicy.SingletonId, ct);

    public async Task<StoredEscrow> SetEscrowAsync(string? sealedPrivateKey, CancellationToken ct)
    {
        if (!Enrollment.IsSealed(sealedPrivateKey))
        {
            throw Refusal.Invalid(RefusalReason.SealedKeyInvalid, "the sealed private key is missing or too large");
        }

        return await context.Keys.ChangeAsync(async change =>
        {
            var policy = await change.LoadAsync<StoredRecoveryPolicy>(StoredRecoveryPolicy.SingletonId, ct) is { Enabled: true } on
                ? on
                : throw Refusal.Precondition(RefusalReason.RecoveryDisabled, "key recovery is not enabled for this tenant");
            var escrow = new StoredEscrow { Id = context.Caller.UserId, SealedPrivateKey = sealedPrivateKey!, RecoveryFingerprint = policy.Fingerprint, StoredAt = context.Now };
            change.Store(escrow);
            change.Record(new AuditRecord("keys.escrow.stored", new AuditTarget("escrow", context.Caller.UserId), AuditOutcome.Success,
                new Dictionary<string, string> { ["recovery_fingerprint"] = policy.Fingerprint }));
            await change.CommitAsync(ct);
            return escrow;
        }, ct);
    }

    /// <summary>A user's escrow copy, to an admin, under an approved release that this fetch uses up; the user is told.</summary>
    public async Task<StoredEscrow> GetEscrowAsync(string? userId, CancellationToken ct)
    {
        const string Action = "keys.escrow.fetched";
        var target = new AuditTarget("escrow", userId ?? "");
        await context.RequireAdminAsync(Action, target, "only an admin may fetch an escrow copy", ct);
        var release = await context.Keys.ApprovedReleaseAsync(userId ?? "", context.Now, ct)
            ?? throw await context.RefusedAsync(Action, target, Refusal.Denied(RefusalReason.ApprovalNeeded,
                $"releasing {userId}'s escrow copy needs {context.RecoveryRules.Release} admins' approval: `keyward recovery release --user {userId}`, then another admin approves"), ct);
        var escrow = await context.Keys.ChangeAsync(async change =>
        {
            var found = await change.LoadAsync<StoredEscrow>(userId ?? "", ct);
            var current = await change.LoadAsync<StoredRecoveryChange>(release.Id, ct);
            if (found is null || current is not { Status: "approved" })
            {
                return null;
            }

            current.Status = "released";
            change.Store(current);
            change.Insert(new StoredEscrowRelease
            {
                Id = Guid.CreateVersion7(context.Now).ToString("N"),
                UserId = found.Id,
                ReleasedAt = context.Now,
                ReleasedTo = context.Caller.UserId,
                ApprovedBy = current.ApprovedBy,
                RecoveryFingerprint = found.RecoveryFingerprint,
            });
            change.Record(new AuditRecord(Action, target, AuditOutcome.Success, new Dictionary<string, string> { ["change_id"] = current.Id, ["approved_by"] = string.Join(',', current.ApprovedBy) }));
            await change.CommitAsync(ct);
            return found;
        }, ct);
        return escrow ?? throw Refusal.NotFound(RefusalReason.EscrowNotFound, $"no escrow copy for {userId}");
    }

    /// <summary>The caller's own escrow releases, oldest first.</summary>
    public Task<IReadOnlyList<StoredEscrowRelease>> ReleasesAsync(CancellationToken ct) => context.Keys.EscrowReleasesAsync(context.Caller.UserId, ct);
}
