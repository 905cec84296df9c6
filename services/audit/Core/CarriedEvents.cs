using System.Collections.Concurrent;
using System.Security.Cryptography;
using Keyward.AuditTrail;

namespace Keyward.Audit.Core;

/// <summary>Where the receipts' key comes from: the tenant's log key, as SubjectPublicKeyInfo PEM, from the CA.</summary>
public interface IReceiptKeys
{
    Task<string> LogKeyPemAsync(string tenantId, CancellationToken cancellationToken);
}

/// <summary>
/// Checks the receipt of a CA event that another service carried to the log (<see cref="AuditReceipt"/>). The tenant's
/// log key is asked of the CA once and kept; a receipt that fails against the kept key asks again, at most every
/// <see cref="RefreshInterval"/> per tenant, so that forged receipts cannot make this service hammer the CA.
/// </summary>
public sealed class ReceiptVerifier(IReceiptKeys keys, TimeProvider clock)
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, KeptKey> _keys = new(StringComparer.Ordinal);

    public async Task<bool> VerifyAsync(AuditEvent carried, CancellationToken cancellationToken)
    {
        if (carried.Receipt is null)
        {
            return false;
        }

        if (_keys.TryGetValue(carried.TenantId, out var kept))
        {
            if (kept.Verify(carried))
            {
                return true;
            }

            if (clock.GetUtcNow() - kept.FetchedAt < RefreshInterval)
            {
                return false;
            }
        }

        var fresh = new KeptKey(await keys.LogKeyPemAsync(carried.TenantId, cancellationToken), clock.GetUtcNow());
        _keys[carried.TenantId] = fresh;
        return fresh.Verify(carried);
    }

    private sealed class KeptKey
    {
        private readonly ECDsa _key = ECDsa.Create();

        public KeptKey(string pem, DateTimeOffset fetchedAt)
        {
            _key.ImportFromPem(pem);
            FetchedAt = fetchedAt;
        }

        public DateTimeOffset FetchedAt { get; }

        // One ECDsa object is not documented as safe for concurrent use; both consumers may verify at once.
        public bool Verify(AuditEvent carried)
        {
            lock (_key)
            {
                return AuditReceipt.Verify(carried, _key);
            }
        }
    }
}
