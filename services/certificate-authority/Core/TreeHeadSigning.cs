using System.Text;
using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Keyward.Transparency;

namespace Keyward.CertificateAuthority.Core;

/// <summary>The last tree head the CA signed for an origin.</summary>
public sealed record SignedHead(string Origin, long Size, byte[] RootHash, string SignedNote);

/// <summary>Where the CA remembers what it signed, per origin. A save that lost a race returns false.</summary>
public interface ISignedTreeHeads
{
    Task<SignedHead?> LatestAsync(string origin, CancellationToken cancellationToken);

    Task<bool> SaveAsync(SignedHead head, long? previousSize, CancellationToken cancellationToken);
}

/// <summary>
/// Signs log checkpoints with the tenant's HSM log key — never arbitrary bytes. The body must parse as a C2SP
/// checkpoint of the caller's own tenant's log; the tree may only grow, and grow consistently: a smaller size, a
/// second root for a signed size, or a consistency proof that does not hold is refused and audited. So a database
/// writer who rewinds or rewrites a log cannot get the rewritten tree signed.
/// </summary>
public sealed class TreeHeadSigning(TenantContext caller, ITenantKeys keys, ISignedTreeHeads heads, IAuditTrail audit, TransparencyOptions options)
{
    private const string Refused = "ca.tree_head.refused";

    public async Task<(string SignedNote, string KeyFingerprint)> SignAsync(string body, IReadOnlyList<byte[]> consistencyProof, CancellationToken ct)
    {
        if (!TreeHead.TryParse(body, out var head))
        {
            throw Refusal.Invalid(RefusalReason.CheckpointInvalid, "the checkpoint is not a C2SP tlog-checkpoint body");
        }

        if (LogOrigins.Parse(options.OriginPrefix, head.Origin) is not { } log || log.TenantId != caller.TenantId)
        {
            throw await RefuseAsync(head, Refusal.Denied(RefusalReason.CheckpointInvalid, $"'{head.Origin}' is not a log of tenant {caller.TenantId}"), ct);
        }

        var key = keys.CheckpointKey(caller.TenantId);
        await audit.RecordAsync(TenantKeyUse.Generated(key, "checkpoints").ToList(), ct);
        var last = await heads.LatestAsync(head.Origin, ct);
        if (last is not null)
        {
            if (head.Size < last.Size || head.Size == last.Size && !head.RootHash.AsSpan().SequenceEqual(last.RootHash))
            {
                throw await RefuseAsync(head, Refusal.Precondition(RefusalReason.TreeHeadRegressed,
                    $"the CA signed size {last.Size} for {head.Origin}; size {head.Size} with this root would rewind or fork the log"), ct);
            }

            if (head.Size == last.Size)
            {
                return (last.SignedNote, key.Key.KeyId);
            }

            if (!ProofVerifier.VerifyConsistency(last.Size, head.Size, last.RootHash, head.RootHash, consistencyProof))
            {
                throw await RefuseAsync(head, Refusal.Precondition(RefusalReason.TreeHeadInconsistent,
                    $"the tree of size {head.Size} is not an extension of the size {last.Size} the CA signed for {head.Origin}"), ct);
            }
        }

        var signature = key.Key.SignSha256(Encoding.UTF8.GetBytes(body));
        var note = new SignedNote(body, [new NoteSignature(head.Origin, EcdsaNoteVerifier.KeyIdOf(key.Key.SubjectPublicKeyInfo), signature)]).ToString();
        if (!await heads.SaveAsync(new SignedHead(head.Origin, head.Size, head.RootHash, note), last?.Size, ct))
        {
            // Another replica signed in between: the caller asks again with a proof from that head.
            throw Refusal.Precondition(RefusalReason.TreeHeadInconsistent, $"another checkpoint of {head.Origin} was signed meanwhile; ask again");
        }

        return (note, key.Key.KeyId);
    }

    public async Task<SignedHead?> LatestAsync(string origin, CancellationToken ct) =>
        LogOrigins.Parse(options.OriginPrefix, origin) is { } log && log.TenantId == caller.TenantId
            ? await heads.LatestAsync(origin, ct)
            : throw Refusal.Denied(RefusalReason.CheckpointInvalid, $"'{origin}' is not a log of tenant {caller.TenantId}");

    private async Task<Refusal> RefuseAsync(TreeHead head, Refusal refusal, CancellationToken ct)
    {
        await audit.RecordAsync([new AuditRecord(Refused, new AuditTarget("log", head.Origin), AuditOutcome.Denied(RefusalReasons.Name(refusal.Reason)),
            new Dictionary<string, string> { ["size"] = head.Size.ToString(System.Globalization.CultureInfo.InvariantCulture), ["root"] = Convert.ToBase64String(head.RootHash) })], ct);
        return refusal;
    }
}
