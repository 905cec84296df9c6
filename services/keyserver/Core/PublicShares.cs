using System.Text.RegularExpressions;
using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.Keyserver.Core;

/// <summary>A public link share of the tenant's instance, as the instance reported it.</summary>
public sealed class PublicShare
{
    /// <summary>The share token.</summary>
    public string Id { get; set; } = "";

    public string OwnerId { get; set; } = "";

    /// <summary>The shared node (a folder's file id).</summary>
    public string NodeId { get; set; } = "";

    /// <summary>Nextcloud's permission bits (1 read, 2 update, 4 create, 8 delete, 16 share).</summary>
    public int Permissions { get; set; }

    public DateTimeOffset RegisteredAt { get; set; }
}

/// <summary>
/// The share registry (protocol 2.1, issue #15): the tenant's Nextcloud instance — a caller with the <c>instance</c>
/// role — reports each public link share it creates or deletes, and can reconcile the whole list. Keyward needs it
/// for one rule: a share's key pair (certificate CN <c>s:&lt;token&gt;</c>, reference §g) is made only by the share's
/// owner, and goes when the share goes. The front door (issue #16) feeds it from the instance itself.
/// </summary>
public sealed partial class PublicShares(KeyContext context)
{
    public const string Prefix = "s:";
    private const string Action = "keys.share";

    [GeneratedRegex("^[A-Za-z0-9]{1,64}$")]
    private static partial Regex TokenPattern();

    public static bool IsToken(string? token) => token is not null && TokenPattern().IsMatch(token);

    public static string HolderOf(string token) => Prefix + token;

    public async Task<PublicShare> RegisterAsync(string token, string ownerId, string nodeId, int permissions, CancellationToken ct)
    {
        await RequireInstanceAsync(token, ct);
        if (!UserIds.AreValid([ownerId]) || string.IsNullOrEmpty(nodeId) || nodeId.Length > 64 || permissions is < 0 or > 31)
        {
            throw Refusal.Invalid(RefusalReason.RequestInvalid, "a share needs its owner's user id, the shared node's id (at most 64 characters) and permissions 0 to 31");
        }

        var share = new PublicShare { Id = token, OwnerId = ownerId, NodeId = nodeId, Permissions = permissions, RegisteredAt = context.Now };
        return await context.Keys.ChangeAsync(async change =>
        {
            var existing = await change.LoadAsync<PublicShare>(token, ct);
            if (existing is not null && existing.OwnerId != ownerId)
            {
                // A token names one share for ever: a share of someone else cannot be taken over by re-registering it.
                throw Refusal.Exists(RefusalReason.KeyExists, "this share token is registered for another owner");
            }

            change.Store(share);
            change.Record(new AuditRecord($"{Action}.registered", Target(token), AuditOutcome.Success,
                new Dictionary<string, string> { ["owner"] = ownerId, ["node"] = nodeId, ["permissions"] = permissions.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
            await change.CommitAsync(ct);
            return share;
        }, ct);
    }

    /// <summary>The share is gone from the instance: so are its key pair and private key.</summary>
    public async Task RemoveAsync(string token, CancellationToken ct)
    {
        await RequireInstanceAsync(token, ct);
        await context.Keys.ChangeAsync(async change =>
        {
            await RemoveInAsync(change, token, "removed", ct);
            await change.CommitAsync(ct);
            return true;
        }, ct);
    }

    /// <summary>The instance's whole list: shares it no longer has are removed with their keys. Returns how many.</summary>
    public async Task<int> ReconcileAsync(IReadOnlyCollection<string> tokens, CancellationToken ct)
    {
        await RequireInstanceAsync("", ct);
        if (tokens.Any(t => !IsToken(t)))
        {
            throw Refusal.Invalid(RefusalReason.RequestInvalid, "a share token is 1 to 64 letters or digits");
        }

        var keep = tokens.ToHashSet(StringComparer.Ordinal);
        var gone = (await context.Keys.SharesAsync(ct)).Where(s => !keep.Contains(s.Id)).Select(s => s.Id).ToList();
        foreach (var token in gone)
        {
            await context.Keys.ChangeAsync(async change =>
            {
                await RemoveInAsync(change, token, "reconciled", ct);
                await change.CommitAsync(ct);
                return true;
            }, ct);
        }

        return gone.Count;
    }

    /// <summary>
    /// Whose keys a call works on: the caller's own, or — with a share token — the share's (<c>s:&lt;token&gt;</c>), which
    /// only the share's owner may create or delete (403 otherwise, audited).
    /// </summary>
    public async Task<string> HolderAsync(string? shareToken, string action, AuditTarget target, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(shareToken))
        {
            return context.Caller.UserId;
        }

        var share = IsToken(shareToken) ? await context.Keys.LoadAsync<PublicShare>(shareToken, ct) : null;
        if (share is null || share.OwnerId != context.Caller.UserId)
        {
            throw await context.RefusedAsync(action, new AuditTarget(target.Type, IsToken(shareToken) ? HolderOf(shareToken) : "s:?"),
                Refusal.Denied(RefusalReason.NotAllowed, "You are not the owner of the share"), ct);
        }

        return HolderOf(share.Id);
    }

    /// <summary>A registered share's holder id for reading its private key: the token is the visitor's proof (as a public link is).</summary>
    public async Task<string> ReaderAsync(string shareToken, CancellationToken ct) =>
        IsToken(shareToken) && await context.Keys.LoadAsync<PublicShare>(shareToken, ct) is { } share
            ? HolderOf(share.Id)
            : throw Refusal.Denied(RefusalReason.NotAllowed, "Not allowed to get private key");

    private async Task RemoveInAsync(IKeyChange change, string token, string how, CancellationToken ct)
    {
        var holder = HolderOf(token);
        var existed = await change.LoadAsync<PublicShare>(token, ct) is not null;
        change.Delete<PublicShare>(token);
        var certificate = await change.LoadAsync<StoredCertificate>(holder, ct) is not null;
        var privateKey = await change.LoadAsync<StoredPrivateKey>(holder, ct) is not null;
        change.Delete<StoredCertificate>(holder);
        change.Delete<StoredPrivateKey>(holder);
        change.Record(new AuditRecord($"{Action}.{how}", Target(token), AuditOutcome.Success,
            new Dictionary<string, string> { ["existed"] = Flag(existed), ["certificate_deleted"] = Flag(certificate), ["private_key_deleted"] = Flag(privateKey) }));
        if (certificate)
        {
            change.Record(new AuditRecord("keys.certificate.deleted", new AuditTarget("certificate", holder), AuditOutcome.Success, new Dictionary<string, string> { ["existed"] = "true" }));
        }

        if (privateKey)
        {
            change.Record(new AuditRecord("keys.private_key.deleted", new AuditTarget("private_key", holder), AuditOutcome.Success, new Dictionary<string, string> { ["existed"] = "true" }));
        }
    }

    private async Task RequireInstanceAsync(string token, CancellationToken ct)
    {
        if (!context.Caller.Roles.Contains(KeywardRoles.Instance) && !context.Caller.IsAdmin)
        {
            throw await context.RefusedAsync($"{Action}.refused", Target(token), Refusal.Denied(RefusalReason.NotAllowed, "only the tenant's Nextcloud instance (role 'instance') or an admin reports shares"), ct);
        }

        if (token.Length > 0 && !IsToken(token))
        {
            throw Refusal.Invalid(RefusalReason.RequestInvalid, "a share token is 1 to 64 letters or digits");
        }
    }

    private static AuditTarget Target(string token) => new("share", token.Length == 0 ? "*" : HolderOf(token));

    private static string Flag(bool value) => value ? "true" : "false";
}
