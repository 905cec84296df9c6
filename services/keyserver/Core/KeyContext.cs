using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.Keyserver.Core;

/// <summary>What every keyserver use case works with: the caller, the store, the CA, the audit trail and the clock.</summary>
public sealed class KeyContext(TenantContext caller, IKeyStore keys, ICertificateSigner ca, IAuditTrail audit, TimeProvider clock, RecoveryRules recoveryRules)
{
    public RecoveryRules RecoveryRules { get; } = recoveryRules;

    public TenantContext Caller { get; } = caller;

    public IKeyStore Keys { get; } = keys;

    public ICertificateSigner Ca { get; } = ca;

    public DateTimeOffset Now => clock.GetUtcNow();

    /// <summary>Audits a refusal on its own (nothing else changes) and returns it to throw.</summary>
    public async Task<Refusal> RefusedAsync(string action, AuditTarget target, Refusal refusal, CancellationToken ct, bool failed = false)
    {
        var reason = RefusalReasons.Name(refusal.Reason);
        await audit.RecordAsync(action, target, failed ? AuditOutcome.Failed(reason) : AuditOutcome.Denied(reason), ct);
        return refusal;
    }

    /// <summary>Admin-only actions: refused (and audited) for anyone else.</summary>
    public async Task RequireAdminAsync(string action, AuditTarget target, string message, CancellationToken ct)
    {
        if (!Caller.IsAdmin)
        {
            throw await RefusedAsync(action, target, Refusal.Denied(RefusalReason.NotAllowed, message), ct);
        }
    }

    /// <summary>
    /// Inserts a key document with its audit event (and the events of another service it carries, such as the CA's for
    /// the certificate); a concurrent insert for the same user loses with KEY_EXISTS, its carried events still logged.
    /// </summary>
    public async Task InsertOnceAsync<T>(T document, AuditRecord stored, string refusedAction, CancellationToken ct, IReadOnlyList<AuditEvent>? carried = null)
        where T : class
    {
        carried ??= [];
        try
        {
            await Keys.ChangeAsync(async change =>
            {
                change.Insert(document);
                change.Record(stored);
                change.Carry(carried);
                await change.CommitAsync(ct);
                return true;
            }, ct);
        }
        catch (KeyAlreadyStoredException)
        {
            if (carried.Count > 0)
            {
                // The CA signed a certificate that is not stored: what it signed is logged all the same.
                await Keys.ChangeAsync(async change =>
                {
                    change.Carry(carried);
                    await change.CommitAsync(ct);
                    return true;
                }, ct);
            }

            throw await RefusedAsync(refusedAction, stored.Target, KeyExists(), ct);
        }
    }

    /// <summary>Refuses (KEY_EXISTS, audited) when the caller already has a document of this kind: the reference answers 409 first (§a.2).</summary>
    public async Task RefuseIfExistsAsync<T>(string action, AuditTarget target, CancellationToken ct, string? holder = null)
        where T : class
    {
        if (await Keys.LoadAsync<T>(holder ?? Caller.UserId, ct) is not null)
        {
            throw await RefusedAsync(action, target, KeyExists(), ct);
        }
    }

    /// <summary>Deletes the caller's own document of this kind (also when there is none), audited.</summary>
    public Task DeleteOwnAsync<T>(string action, AuditTarget target, CancellationToken ct, string? holder = null)
        where T : class =>
        Keys.ChangeAsync(async change =>
        {
            var existed = await change.LoadAsync<T>(holder ?? Caller.UserId, ct) is not null;
            change.Delete<T>(holder ?? Caller.UserId);
            change.Record(new AuditRecord(action, target, AuditOutcome.Success, new Dictionary<string, string> { ["existed"] = existed ? "true" : "false" }));
            await change.CommitAsync(ct);
            return true;
        }, ct);

    public static Refusal KeyExists() => Refusal.Exists(RefusalReason.KeyExists, "a key is already stored for this user; delete it first");
}
