using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.Keyserver.Core;

/// <summary>
/// Users' certificates (reference §a.2): issued by the tenant CA from the caller's CSR, or brought from
/// elsewhere; never overwritten (a second one is KEY_EXISTS), changed only by delete or an admin re-issue.
/// </summary>
public sealed class Certificates(KeyContext context)
{
    private const string Refused = "keys.certificate.refused";

    private AuditTarget Own => new("certificate", context.Caller.UserId);

    /// <summary>Signs the caller's CSR — or, with a share token, the CSR of that public share's key pair (CN <c>s:&lt;token&gt;</c>, the share's owner only).</summary>
    public async Task<StoredCertificate> IssueAsync(string csrPem, CancellationToken ct, string? shareToken = null)
    {
        var holder = await new PublicShares(context).HolderAsync(shareToken, Refused, Own, ct);
        var own = new AuditTarget("certificate", holder);
        // The reference answers 409 before looking at the CSR (§a.2, order of checks).
        await context.RefuseIfExistsAsync<StoredCertificate>(Refused, own, ct, holder);
        SignedCertificate signed;
        try
        {
            signed = await context.Ca.SignAsync(holder, csrPem, ct);
        }
        catch (Refusal refusal) when (shareToken is { Length: > 0 } && refusal.Reason == RefusalReason.CnMismatch)
        {
            throw await context.RefusedAsync(Refused, own, Refusal.Denied(RefusalReason.CnMismatch, "Common name (CN) does not match the share token"), ct);
        }
        catch (Refusal refusal)
        {
            throw await context.RefusedAsync(Refused, own, refusal, ct);
        }

        var certificate = new StoredCertificate { Id = holder, CertificatePem = signed.CertificatePem, FingerprintSha256 = signed.FingerprintSha256, Source = "ca", CreatedAt = context.Now };
        await context.InsertOnceAsync(certificate, new AuditRecord("keys.certificate.issued", own, AuditOutcome.Success,
            new Dictionary<string, string> { ["serial"] = signed.SerialNumber, ["fingerprint_sha256"] = signed.FingerprintSha256 }), Refused, ct, signed.CaEvents);
        return certificate;
    }

    public async Task<StoredCertificate> StoreAsync(string? certificatePem, CancellationToken ct)
    {
        var (reason, message) = ExternalCertificate.Check(certificatePem, context.Caller.UserId);
        if (reason is { } refused)
        {
            throw await context.RefusedAsync(Refused, Own, Refusal.Invalid(refused, message!), ct, failed: true);
        }

        await context.RefuseIfExistsAsync<StoredCertificate>(Refused, Own, ct);
        var fingerprint = ExternalCertificate.FingerprintSha256(certificatePem!);
        var certificate = new StoredCertificate { Id = context.Caller.UserId, CertificatePem = certificatePem!, FingerprintSha256 = fingerprint, Source = "external", CreatedAt = context.Now };
        await context.InsertOnceAsync(certificate, Success("keys.certificate.stored", ("fingerprint_sha256", fingerprint)), Refused, ct);
        return certificate;
    }

    /// <summary>The listed users' certificates plus the caller's, in that order; the first one missing is NOT_FOUND. Public: not audited.</summary>
    public async Task<IReadOnlyList<StoredCertificate>> FindAsync(IEnumerable<string> userIds, CancellationToken ct)
    {
        var ids = UserIds.WithCaller(userIds, context.Caller.UserId);
        if (!UserIds.AreValid(ids))
        {
            throw Refusal.Invalid(RefusalReason.UserListInvalid, $"ask for at most {UserIds.MaxCount} non-empty user ids of up to {UserIds.MaxLength} characters");
        }

        var found = (await context.Keys.CertificatesAsync(ids.Distinct().ToArray(), ct)).ToDictionary(c => c.Id, StringComparer.Ordinal);
        return ids.Select(id => found.TryGetValue(id, out var certificate) ? certificate
            : throw Refusal.NotFound(RefusalReason.CertificateNotFound, $"Could not find the public key belonging to the user {id}", new Dictionary<string, string> { ["user_id"] = id }))
            .ToList();
    }

    public async Task DeleteAsync(CancellationToken ct, string? shareToken = null)
    {
        var holder = await new PublicShares(context).HolderAsync(shareToken, "keys.certificate.deleted", Own, ct);
        await context.DeleteOwnAsync<StoredCertificate>("keys.certificate.deleted", new AuditTarget("certificate", holder), ct, holder);
    }

    /// <summary>An admin has a user's certificate issued again for the same key; both fingerprints are audited.</summary>
    public async Task<StoredCertificate> ReissueAsync(string? userId, CancellationToken ct)
    {
        var target = new AuditTarget("certificate", userId ?? "");
        await context.RequireAdminAsync("keys.certificate.reissued", target, "only an admin may re-issue a certificate", ct);
        return await context.Keys.ChangeAsync(async change =>
        {
            var current = await change.LoadAsync<StoredCertificate>(userId ?? "", ct)
                ?? throw Refusal.NotFound(RefusalReason.CertificateNotFound, $"{userId} has no certificate to re-issue");
            var signed = await context.Ca.ReissueAsync(current.Id, current.CertificatePem, ct);
            var previous = current.FingerprintSha256;
            current.CertificatePem = signed.CertificatePem;
            current.FingerprintSha256 = signed.FingerprintSha256;
            current.Source = "ca";
            current.CreatedAt = context.Now;
            change.Store(current);
            change.Carry(signed.CaEvents);
            change.Record(new AuditRecord("keys.certificate.reissued", target, AuditOutcome.Success,
                new Dictionary<string, string> { ["previous_fingerprint_sha256"] = previous, ["fingerprint_sha256"] = signed.FingerprintSha256 }));
            await change.CommitAsync(ct);
            return current;
        }, ct);
    }

    private AuditRecord Success(string action, params (string Key, string Value)[] details) =>
        new(action, Own, AuditOutcome.Success, details.ToDictionary(d => d.Key, d => d.Value));
}
