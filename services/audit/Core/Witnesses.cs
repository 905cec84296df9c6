using Keyward.AuditTrail;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Keyward.Transparency;

namespace Keyward.Audit.Core;

/// <summary><c>Keyward:Transparency:Witnesses</c>: the witnesses whose cosignatures are kept (signed-note verifier keys).</summary>
public sealed class WitnessOptions
{
    public const string Section = "Keyward:Transparency";

    public List<string> Witnesses { get; set; } = [];
}

/// <summary>Where witness cosignatures are stored (the log store).</summary>
public interface ICosignatureStore
{
    Task AddCosignatureAsync(string tenantId, string log, long size, string witness, string line, CancellationToken cancellationToken);
}

/// <summary>
/// Takes a witness's cosignature of one of the caller's tenant's checkpoints: kept only when it is a valid
/// tlog-cosignature by a configured witness over the checkpoint stored at that size, so served checkpoints carry
/// nothing a client would have to throw away.
/// </summary>
public sealed class Witnesses(TenantContext caller, ILogReader logs, ICosignatureStore store, WitnessOptions options)
{
    public async Task AddAsync(string log, long size, string signatureLine, CancellationToken ct)
    {
        var checkpoint = await logs.CheckpointAsync(caller.TenantId, log, size, ct)
            ?? throw Refusal.NotFound(RefusalReason.QueryInvalid, $"no checkpoint was signed at size {size}");
        if (!SignedNote.TryParse(checkpoint.Note, out var note)
            || !SignedNote.TryParse(note.Body + "\n" + signatureLine.TrimEnd('\n') + "\n", out var submitted) || submitted.Signatures.Count != 1)
        {
            throw Refusal.Invalid(RefusalReason.CheckpointInvalid, "send one signature line: — <witness name> <base64 key id ‖ signature>");
        }

        var signature = submitted.Signatures[0];
        var witness = options.Witnesses.Select(v => CosignatureVerifier.TryParse(v, out var w) ? w : null).OfType<CosignatureVerifier>()
            .FirstOrDefault(w => w.Name == signature.Name && w.KeyId == signature.KeyId)
            ?? throw Refusal.Denied(RefusalReason.CheckpointInvalid, $"'{signature.Name}' is not a witness of this deployment");
        if (!witness.Verify(note.Body, signature.Signature))
        {
            throw Refusal.Invalid(RefusalReason.CheckpointInvalid, "the cosignature does not verify for this checkpoint");
        }

        await store.AddCosignatureAsync(caller.TenantId, log, size, witness.Name, signature.ToLine(), ct);
    }
}
