using Google.Protobuf;
using Grpc.Core;
using Keyward.CertificateAuthority.Domain;
using Keyward.CertificateAuthority.Storage.Pkcs11;
using Keyward.CertificateAuthority.V1;
using Keyward.Common.Audit;
using Keyward.AuditTrail;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Keyward.CertificateAuthority.Api;

/// <summary>gRPC face of the CA: translates requests into policy + HSM calls and back.</summary>
public sealed class CertificateAuthorityApi(
    TenantContext caller,
    ITenantKeys keys,
    IDocumentStore store,
    AuditRecorder audit,
    IOptions<CaOptions> options,
    TimeProvider clock) : V1.CertificateAuthority.CertificateAuthorityBase
{
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(CertificateAuthoritySetup.ServiceName));

    public override async Task<SignUserCsrResponse> SignUserCsr(SignUserCsrRequest request, ServerCallContext context)
    {
        var userId = string.IsNullOrEmpty(request.UserId) ? caller.UserId : request.UserId;
        var target = new AuditTarget("user", userId);
        if (userId != caller.UserId && !caller.IsAdmin)
        {
            await audit.RecordAloneAsync(store, "ca.certificate.refused", target, AuditOutcome.Denied(ErrorReasons.NotAllowed));
            throw KeywardError.Create(StatusCode.PermissionDenied, ErrorReasons.NotAllowed, "only an admin may have a certificate issued for another user");
        }

        var reissue = !string.IsNullOrEmpty(request.ReissueCertificatePem);
        if (reissue && !caller.IsAdmin)
        {
            await audit.RecordAloneAsync(store, "ca.certificate.refused", target, AuditOutcome.Denied(ErrorReasons.NotAllowed));
            throw KeywardError.Create(StatusCode.PermissionDenied, ErrorReasons.NotAllowed, "only an admin may re-issue a certificate");
        }

        var decision = reissue ? CsrPolicy.EvaluateReissue(request.ReissueCertificatePem, userId) : CsrPolicy.Evaluate(request.CsrPem, userId);
        if (!decision.Accepted)
        {
            await audit.RecordAloneAsync(store, "ca.certificate.refused", target, AuditOutcome.Denied(decision.Reason!));
            var code = decision.Reason == ErrorReasons.CnMismatch ? StatusCode.PermissionDenied : StatusCode.InvalidArgument;
            throw KeywardError.Create(code, decision.Reason!, decision.Message!);
        }

        var lookup = Hsm(() => keys.CertificateKey(caller.TenantId));
        var certificate = Hsm(() => new CertificateProfile(options.Value.ValidityDays).Issue(decision.Request!, lookup.Key, clock.GetUtcNow()));
        var fingerprint = certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256).ToLowerInvariant();

        await using (var session = store.LightweightSession(caller.TenantId))
        {
            RecordKeyGeneration(session, lookup, "certificates");
            audit.Record(session, reissue ? "ca.certificate.reissued" : "ca.certificate.signed", target, AuditOutcome.Success, new Dictionary<string, string>
            {
                ["serial"] = certificate.SerialNumber,
                ["fingerprint_sha256"] = fingerprint,
                ["ca_key_id"] = lookup.Key.KeyId,
            });
            await session.SaveChangesAsync(context.CancellationToken);
        }

        return new SignUserCsrResponse
        {
            CertificatePem = certificate.ExportCertificatePem(),
            SerialNumber = certificate.SerialNumber,
            FingerprintSha256 = fingerprint,
        };
    }

    public override async Task<ServerKey> GetServerKey(GetServerKeyRequest request, ServerCallContext context)
    {
        var lookup = Hsm(() => keys.CertificateKey(caller.TenantId));
        await RecordIfGeneratedAsync(lookup, "certificates", context.CancellationToken);
        return new ServerKey { PublicKeyPem = lookup.Key.PublicKeyPem, KeyId = lookup.Key.KeyId };
    }

    [Authorize(Roles = KeywardRoles.Service)]
    public override async Task<SignCheckpointResponse> SignCheckpoint(SignCheckpointRequest request, ServerCallContext context)
    {
        if (request.Checkpoint.IsEmpty || request.Checkpoint.Length > 64 * 1024)
        {
            throw KeywardError.Create(StatusCode.InvalidArgument, "CHECKPOINT_INVALID", "a checkpoint must be 1 byte to 64 KiB long");
        }

        var lookup = Hsm(() => keys.CheckpointKey(caller.TenantId));
        await RecordIfGeneratedAsync(lookup, "checkpoints", context.CancellationToken);
        var signature = Hsm(() => lookup.Key.SignSha256(request.Checkpoint.ToByteArray()));
        return new SignCheckpointResponse { Signature = ByteString.CopyFrom(signature), KeyId = lookup.Key.KeyId, Algorithm = CheckpointAlgorithm };
    }

    public override async Task<CheckpointKey> GetCheckpointKey(GetCheckpointKeyRequest request, ServerCallContext context)
    {
        var lookup = Hsm(() => keys.CheckpointKey(caller.TenantId));
        await RecordIfGeneratedAsync(lookup, "checkpoints", context.CancellationToken);
        return new CheckpointKey { PublicKeyPem = lookup.Key.PublicKeyPem, KeyId = lookup.Key.KeyId, Algorithm = CheckpointAlgorithm };
    }

    private const string CheckpointAlgorithm = "ecdsa-p256-sha256";

    private async Task RecordIfGeneratedAsync(KeyLookup lookup, string purpose, CancellationToken cancellationToken)
    {
        if (!lookup.GeneratedNow)
        {
            return;
        }

        await using var session = store.LightweightSession(caller.TenantId);
        RecordKeyGeneration(session, lookup, purpose);
        await session.SaveChangesAsync(cancellationToken);
    }

    private void RecordKeyGeneration(IDocumentSession session, KeyLookup lookup, string purpose)
    {
        if (lookup.GeneratedNow)
        {
            audit.Record(session, "ca.tenant_key.generated", new AuditTarget("tenant_key", lookup.Key.KeyId), AuditOutcome.Success,
                new Dictionary<string, string> { ["purpose"] = purpose });
        }
    }

    // The HSM being away is a state the caller can wait out: UNAVAILABLE, never an internal error.
    private static T Hsm<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (HsmUnavailableException e)
        {
            throw KeywardError.Create(StatusCode.Unavailable, ErrorReasons.HsmUnavailable, $"the HSM is not available: {e.Message}");
        }
        catch (Net.Pkcs11Interop.Common.Pkcs11Exception e)
        {
            throw KeywardError.Create(StatusCode.Unavailable, ErrorReasons.HsmUnavailable, $"the HSM refused the operation ({e.RV})");
        }
    }
}
