using System.Security.Cryptography;
using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.CertificateAuthority.Core;

/// <summary>What the keyserver asks the CA to certify for a user it authenticated: the user's CSR, or (an admin's re-issue) the user's current certificate again.</summary>
/// <remarks>
/// With <paramref name="ReturnAuditEvents"/> the CA commits nothing for a signature: it returns the events with
/// receipts, and the keyserver commits them with the certificate (one durable commit per certificate, not two).
/// </remarks>
public sealed record CertificateWanted(string? UserId, string? CsrPem, string? ReissueCertificatePem, bool ReturnAuditEvents = false);

public sealed record IssuedCertificate(string CertificatePem, string SerialNumber, string FingerprintSha256, IReadOnlyList<ReceiptedEvent> AuditEvents);

/// <summary>An audit event handed to the caller to commit: its canonical bytes and the CA's receipt (see <see cref="AuditReceipt"/>).</summary>
public sealed record ReceiptedEvent(byte[] CanonicalEvent, byte[] Receipt);

/// <summary>
/// The CA's policy decision and signature. Only the keyserver asks (the service identity, never a caller at the
/// edge: the gateway routes no signing RPC), for the user whose own request it authenticated, so an admin cannot
/// have a certificate made in someone else's name. Then the CSR policy (CN = that user), the signing budget, the
/// Nextcloud profile signed with the tenant's key; every outcome audited.
/// </summary>
public sealed class CertificateIssuance(TenantContext caller, ITenantKeys keys, IAuditTrail audit, IAuditEventSource events, CaOptions options, SigningBudget budget, TimeProvider clock)
{
    public async Task<IssuedCertificate> IssueAsync(CertificateWanted wanted, CancellationToken ct)
    {
        var userId = wanted.UserId ?? "";
        var target = new AuditTarget("user", userId);
        var reissue = !string.IsNullOrEmpty(wanted.ReissueCertificatePem);
        if (!caller.IsInRole(KeywardRoles.Service))
        {
            throw await RefusedAsync(target, Refusal.Denied(RefusalReason.NotAllowed, "the CA signs user certificates only for the keyserver, for the user it authenticated"), ct);
        }

        if (string.IsNullOrEmpty(userId))
        {
            throw Refusal.Invalid(RefusalReason.RequestInvalid, "the user to certify is missing");
        }

        if (budget.TryTake(caller.TenantId, userId) is { } retryAfter)
        {
            throw await RefusedAsync(target, Refusal.Exhausted("too many certificates were signed for this user or tenant; try again later", retryAfter), ct);
        }

        var decision = reissue ? CsrPolicy.EvaluateReissue(wanted.ReissueCertificatePem!, userId) : CsrPolicy.Evaluate(wanted.CsrPem, userId);
        if (!decision.Accepted)
        {
            var reason = decision.Reason!.Value;
            var refusal = reason == RefusalReason.CnMismatch ? Refusal.Denied(reason, decision.Message!) : Refusal.Invalid(reason, decision.Message!);
            throw await RefusedAsync(target, refusal, ct);
        }

        var lookup = keys.CertificateKey(caller.TenantId);
        using var certificate = new CertificateProfile(options.ValidityDays).Issue(decision.Request!, lookup.Key, clock.GetUtcNow());
        var fingerprint = certificate.GetCertHashString(HashAlgorithmName.SHA256).ToLowerInvariant();
        var records = TenantKeyUse.Generated(lookup, "certificates").ToList();
        records.Add(new AuditRecord(reissue ? "ca.certificate.reissued" : "ca.certificate.signed", target, AuditOutcome.Success, new Dictionary<string, string>
        {
            ["serial"] = certificate.SerialNumber,
            ["fingerprint_sha256"] = fingerprint,
            ["ca_key_id"] = lookup.Key.KeyId,
        }));
        var pem = certificate.ExportCertificatePem();
        if (!wanted.ReturnAuditEvents)
        {
            await audit.RecordAsync(records, ct);
            return new IssuedCertificate(pem, certificate.SerialNumber, fingerprint, []);
        }

        return new IssuedCertificate(pem, certificate.SerialNumber, fingerprint, Receipted(records));
    }

    /// <summary>The events with receipts by the tenant's log key (in the HSM); a log key made just now is audited the same way.</summary>
    private List<ReceiptedEvent> Receipted(List<AuditRecord> records)
    {
        var logKey = keys.CheckpointKey(caller.TenantId);
        records.AddRange(TenantKeyUse.Generated(logKey, "checkpoints"));
        var receipted = new List<ReceiptedEvent>(records.Count);
        foreach (var record in records)
        {
            var canonical = CanonicalAuditEvent.ToBytes(events.Create(record));
            receipted.Add(new ReceiptedEvent(canonical, logKey.Key.SignSha256(AuditReceipt.SignedBytes(canonical))));
        }

        return receipted;
    }

    private async Task<Refusal> RefusedAsync(AuditTarget target, Refusal refusal, CancellationToken ct)
    {
        await audit.RecordAsync("ca.certificate.refused", target, AuditOutcome.Denied(RefusalReasons.Name(refusal.Reason)), ct);
        return refusal;
    }
}
