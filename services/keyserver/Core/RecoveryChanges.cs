using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.Keyserver.Core;

/// <summary>What an admin asks for: rotate the recovery key (to <c>PublicKey</c>), disable recovery, release <c>UserId</c>'s escrow copy.</summary>
public sealed record RecoveryChangeWanted(string? Action, string? PublicKey, string? UserId);

/// <summary>
/// Recovery changes no single admin can make (adversary (b)): each waits for M distinct admins
/// (<see cref="RecoveryRules"/>, 2 by default) and takes effect with the last approval needed; a release lets the
/// escrow copy be fetched once. Every request and approval is audited; the key history is kept.
/// </summary>
public sealed class RecoveryChanges(KeyContext context)
{
    public async Task<StoredRecoveryChange> RequestAsync(RecoveryChangeWanted wanted, CancellationToken ct)
    {
        var target = new AuditTarget("recovery_change", wanted.Action ?? "");
        await context.RequireAdminAsync("keys.recovery.change_requested", target, "only an admin may ask for a recovery change", ct);
        var policy = await context.Keys.LoadAsync<StoredRecoveryPolicy>(StoredRecoveryPolicy.SingletonId, ct) is { Enabled: true } on
            ? on
            : throw Refusal.Precondition(RefusalReason.RecoveryDisabled, "key recovery is not enabled for this tenant");
        var change = new StoredRecoveryChange
        {
            Id = Guid.CreateVersion7(context.Now).ToString("N"),
            Action = wanted.Action ?? "",
            RequestedBy = context.Caller.UserId,
            ApprovedBy = [context.Caller.UserId],
            CreatedAt = context.Now,
            ExpiresAt = context.Now + context.RecoveryRules.Lifetime,
        };
        switch (change.Action)
        {
            case RecoveryActions.Rotate:
                change.PublicKey = wanted.PublicKey;
                change.Fingerprint = Enrollment.RsaFingerprint(wanted.PublicKey, minimumBits: 3072)
                    ?? throw Refusal.Invalid(RefusalReason.RecoveryKeyInvalid, "the new recovery key must be an RSA public key of 3072 bits or more (SPKI PEM)");
                if (change.Fingerprint == policy.Fingerprint)
                {
                    throw Refusal.Invalid(RefusalReason.RecoveryChangeInvalid, "that is the current recovery key");
                }

                break;
            case RecoveryActions.Disable:
                break;
            case RecoveryActions.Release when !string.IsNullOrEmpty(wanted.UserId):
                change.UserId = wanted.UserId;
                break;
            default:
                throw Refusal.Invalid(RefusalReason.RecoveryChangeInvalid, "a recovery change is rotate (with publicKey), disable, or release (with userId)");
        }

        change.ApprovalsNeeded = context.RecoveryRules.Needed(change.Action);
        return await context.Keys.ChangeAsync(async unit =>
        {
            unit.Insert(change);
            unit.Record(Audited("keys.recovery.change_requested", change));
            await ApplyIfApprovedAsync(unit, change, ct);
            await unit.CommitAsync(ct);
            return change;
        }, ct);
    }

    public async Task<StoredRecoveryChange> ApproveAsync(string? changeId, CancellationToken ct)
    {
        var target = new AuditTarget("recovery_change", changeId ?? "");
        await context.RequireAdminAsync("keys.recovery.change_approved", target, "only an admin may approve a recovery change", ct);
        return await context.Keys.ChangeAsync(async unit =>
        {
            var change = await unit.LoadAsync<StoredRecoveryChange>(changeId ?? "", ct);
            if (change is not { Status: "pending" } || change.ExpiresAt <= context.Now)
            {
                throw Refusal.NotFound(RefusalReason.RecoveryChangeNotFound, $"no pending recovery change {changeId} (they expire after {context.RecoveryRules.Lifetime.TotalHours:0} h)");
            }

            if (change.ApprovedBy.Contains(context.Caller.UserId, StringComparer.Ordinal))
            {
                throw Refusal.Precondition(RefusalReason.ApprovalNeeded, "you approved this change already: another admin must approve it");
            }

            change.ApprovedBy.Add(context.Caller.UserId);
            unit.Record(Audited("keys.recovery.change_approved", change));
            await ApplyIfApprovedAsync(unit, change, ct);
            unit.Store(change);
            await unit.CommitAsync(ct);
            return change;
        }, ct);
    }

    public async Task<IReadOnlyList<StoredRecoveryChange>> OpenAsync(CancellationToken ct)
    {
        await context.RequireAdminAsync("keys.recovery.changes_listed", new AuditTarget("tenant", context.Caller.TenantId), "only an admin may list recovery changes", ct);
        return (await context.Keys.OpenRecoveryChangesAsync(context.Now, ct)).OrderBy(c => c.CreatedAt).ToList();
    }

    private async Task ApplyIfApprovedAsync(IKeyChange unit, StoredRecoveryChange change, CancellationToken ct)
    {
        if (change.ApprovedBy.Count < change.ApprovalsNeeded)
        {
            return;
        }

        if (change.Action == RecoveryActions.Release)
        {
            change.Status = "approved";
            return;
        }

        var policy = await unit.LoadAsync<StoredRecoveryPolicy>(StoredRecoveryPolicy.SingletonId, ct) is { Enabled: true } on
            ? on
            : throw Refusal.Precondition(RefusalReason.RecoveryDisabled, "key recovery is not enabled for this tenant");
        if (change.Action == RecoveryActions.Rotate)
        {
            // Clients pinned the old key's fingerprint: they refuse to escrow to the new one until their user consents.
            policy.PreviousFingerprints.Add(policy.Fingerprint);
            policy.PublicKey = change.PublicKey!;
            policy.Fingerprint = change.Fingerprint!;
            policy.EnabledBy = string.Join(',', change.ApprovedBy);
            policy.EnabledAt = context.Now;
            unit.Store(policy);
            unit.Record(Audited("keys.recovery.rotated", change));
        }
        else
        {
            // Kept, disabled: the key history stays, and no escrow copy can be released any more (that needs recovery on).
            policy.Enabled = false;
            policy.PreviousFingerprints.Add(policy.Fingerprint);
            unit.Store(policy);
            unit.Record(Audited("keys.recovery.disabled", change));
        }

        change.Status = "done";
    }

    private static AuditRecord Audited(string action, StoredRecoveryChange change) => new(action, new AuditTarget("recovery_change", change.Id), AuditOutcome.Success,
        new Dictionary<string, string>
        {
            ["action"] = change.Action,
            ["approved_by"] = string.Join(',', change.ApprovedBy),
            ["approvals_needed"] = change.ApprovalsNeeded.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["fingerprint"] = change.Fingerprint ?? "",
            ["user_id"] = change.UserId ?? "",
        });
}
