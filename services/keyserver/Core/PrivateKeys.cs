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

    public async Task<StoredPrivateKey> StoreAsync(string? blob, CancellationToken ct)
    {
        if (!PrivateKeyBlob.IsWellFormed(blob))
        {
            throw await context.RefusedAsync(Refused, Own, Refusal.Invalid(RefusalReason.PrivateKeyInvalid, PrivateKeyBlob.InvalidFormatMessage), ct, failed: true);
        }

        await context.RefuseIfExistsAsync<StoredPrivateKey>(Refused, Own, ct);
        var stored = new StoredPrivateKey { Id = context.Caller.UserId, Blob = blob!, CreatedAt = context.Now };
        // The blob's hash (of ciphertext, never the key) goes into key transparency, so a device can tell its own blob from a swapped one.
        var details = new Dictionary<string, string>
        {
            ["size"] = blob!.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(blob))),
        };
        await context.InsertOnceAsync(stored, new AuditRecord("keys.private_key.stored", Own, AuditOutcome.Success, details), Refused, ct);
        return stored;
    }

    public async Task<StoredPrivateKey> GetAsync(CancellationToken ct)
    {
        var stored = await context.Keys.ChangeAsync(async change =>
        {
            var found = await change.LoadAsync<StoredPrivateKey>(context.Caller.UserId, ct);
            var outcome = found is null ? AuditOutcome.Failed(RefusalReasons.Name(RefusalReason.PrivateKeyNotFound)) : AuditOutcome.Success;
            change.Record(new AuditRecord("keys.private_key.fetched", Own, outcome));
            await change.CommitAsync(ct);
            return found;
        }, ct);
        return stored ?? throw Refusal.NotFound(RefusalReason.PrivateKeyNotFound, "Could not find the private key");
    }

    public Task DeleteAsync(CancellationToken ct) => context.DeleteOwnAsync<StoredPrivateKey>("keys.private_key.deleted", Own, ct);

    /// <summary>Asked on every capabilities request.</summary>
    public Task<KeyStatusFacts> StatusAsync(CancellationToken ct) => context.Keys.StatusAsync(context.Caller.UserId, ct);
}
