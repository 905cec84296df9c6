using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.CertificateAuthority.Core;

/// <summary>The tenant's public keys, the checkpoint (log) key's public half. A key made on first use is audited.</summary>
public sealed class TenantKeyUse(TenantContext caller, ITenantKeys keys, IAuditTrail audit)
{
    public const string CheckpointAlgorithm = "ecdsa-p256-sha256";

    public async Task<TenantKey> ServerKeyAsync(CancellationToken ct) => await UseAsync(keys.CertificateKey(caller.TenantId), "certificates", ct);

    public async Task<TenantKey> CheckpointKeyAsync(CancellationToken ct) => await UseAsync(keys.CheckpointKey(caller.TenantId), "checkpoints", ct);

    /// <summary>The audit record of a key this lookup generated in the HSM, if it did.</summary>
    public static IEnumerable<AuditRecord> Generated(KeyLookup lookup, string purpose) => lookup.GeneratedNow
        ? [new AuditRecord("ca.tenant_key.generated", new AuditTarget("tenant_key", lookup.Key.KeyId), AuditOutcome.Success, new Dictionary<string, string> { ["purpose"] = purpose })]
        : [];

    private async Task<TenantKey> UseAsync(KeyLookup lookup, string purpose, CancellationToken ct)
    {
        await audit.RecordAsync(Generated(lookup, purpose).ToList(), ct);
        return lookup.Key;
    }
}
