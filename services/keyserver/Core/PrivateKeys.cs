using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.Keyserver.Core;

/// <summary>Users' encrypted private-key blobs (reference §a.2): stored and returned byte for byte after a format check; every read audited.</summary>
public sealed class PrivateKeys(KeyContext context)
{
    private const string Refused = "keys.private_key.refused";

    private AuditTarget Own => new("private_key", context.Caller.UserId);

    /// <summary>Stores the caller's blob — or, with a share token, that public share's (the share's owner only).</summary>
    public async Task<StoredPrivateKey> StoreAsync(string? blob, CancellationToken ct, string? shareToken = null)
    {
        if (!PrivateKeyBlob.IsWellFormed(blob))
        {
            throw await context.RefusedAsync(Refused, Own, Refusal.Invalid(RefusalReason.PrivateKeyInvalid, PrivateKeyBlob.InvalidFormatMessage), ct, failed: true);
        }

        var holder = await new PublicShares(context).HolderAsync(shareToken, Refused, Own, ct);
        var own = new AuditTarget("private_key", holder);
        await context.RefuseIfExistsAsync<StoredPrivateKey>(Refused, own, ct, holder);
        var stored = new StoredPrivateKey { Id = holder, Blob = blob!, CreatedAt = context.Now };
        // The blob's hash (of ciphertext, never the key) goes into key transparency, so a device can tell its own blob from a swapped one.
        var details = new Dictionary<string, string>
        {
            ["size"] = blob!.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(blob))),
        };
        await context.InsertOnceAsync(stored, new AuditRecord("keys.private_key.stored", own, AuditOutcome.Success, details), Refused, ct);
        return stored;
    }

    /// <summary>The caller's blob — or, with a registered share's token (x-nc-e2ee-share-token), that share's.</summary>
    public async Task<StoredPrivateKey> GetAsync(CancellationToken ct, string? shareToken = null)
    {
        var holder = string.IsNullOrEmpty(shareToken) ? context.Caller.UserId : await new PublicShares(context).ReaderAsync(shareToken, ct);
        var stored = await context.Keys.ChangeAsync(async change =>
        {
            var found = await change.LoadAsync<StoredPrivateKey>(holder, ct);
            var outcome = found is null ? AuditOutcome.Failed(RefusalReasons.Name(RefusalReason.PrivateKeyNotFound)) : AuditOutcome.Success;
            change.Record(new AuditRecord("keys.private_key.fetched", new AuditTarget("private_key", holder), outcome));
            await change.CommitAsync(ct);
            return found;
        }, ct);
        return stored ?? throw Refusal.NotFound(RefusalReason.PrivateKeyNotFound, "Could not find the private key");
    }

    public async Task DeleteAsync(CancellationToken ct, string? shareToken = null)
    {
        var holder = await new PublicShares(context).HolderAsync(shareToken, "keys.private_key.deleted", Own, ct);
        await context.DeleteOwnAsync<StoredPrivateKey>("keys.private_key.deleted", new AuditTarget("private_key", holder), ct, holder);
    }

    /// <summary>Asked on every capabilities request.</summary>
    public Task<KeyStatusFacts> StatusAsync(CancellationToken ct) => context.Keys.StatusAsync(context.Caller.UserId, ct);
}
