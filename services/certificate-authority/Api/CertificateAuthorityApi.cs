using Google.Protobuf;
using Grpc.Core;
using Keyward.CertificateAuthority.Core;
using Keyward.CertificateAuthority.V1;
using Keyward.Common.Auth;
using Keyward.Common.V1;
using Microsoft.AspNetCore.Authorization;

namespace Keyward.CertificateAuthority.Api;

/// <summary>gRPC face of the CA: request → use case (Core/) → reply. HSM outages and refusals become statuses in the common interceptor.</summary>
public sealed class CertificateAuthorityApi(TenantContext caller, CertificateIssuance issuance, TenantKeyUse keys, TreeHeadSigning treeHeads) : V1.CertificateAuthority.CertificateAuthorityBase
{
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(CertificateAuthoritySetup.ServiceName));

    public override async Task<SignUserCsrResponse> SignUserCsr(SignUserCsrRequest request, ServerCallContext context)
    {
        var issued = await issuance.IssueAsync(new CertificateWanted(request.UserId, request.CsrPem, request.ReissueCertificatePem, request.ReturnAuditEvents), context.CancellationToken);
        var response = new SignUserCsrResponse { CertificatePem = issued.CertificatePem, SerialNumber = issued.SerialNumber, FingerprintSha256 = issued.FingerprintSha256 };
        response.AuditEvents.AddRange(issued.AuditEvents.Select(e => new ReceiptedAuditEvent { CanonicalEvent = ByteString.CopyFrom(e.CanonicalEvent), Receipt = ByteString.CopyFrom(e.Receipt) }));
        return response;
    }

    public override async Task<ServerKey> GetServerKey(GetServerKeyRequest request, ServerCallContext context)
    {
        var key = await keys.ServerKeyAsync(context.CancellationToken);
        return new ServerKey { PublicKeyPem = key.PublicKeyPem, KeyId = key.KeyId };
    }

    [Authorize(Roles = KeywardRoles.Service)]
    public override async Task<SignTreeHeadResponse> SignTreeHead(SignTreeHeadRequest request, ServerCallContext context)
    {
        var (note, fingerprint) = await treeHeads.SignAsync(request.Checkpoint, request.ConsistencyProof.Select(p => p.ToByteArray()).ToList(), context.CancellationToken);
        return new SignTreeHeadResponse { SignedNote = note, KeyFingerprint = fingerprint };
    }

    public override async Task<LatestTreeHead> GetLatestTreeHead(GetLatestTreeHeadRequest request, ServerCallContext context)
    {
        var head = await treeHeads.LatestAsync(request.Origin, context.CancellationToken);
        return new LatestTreeHead { SignedNote = head?.SignedNote ?? "", Size = head?.Size ?? 0 };
    }

    public override async Task<CheckpointKey> GetCheckpointKey(GetCheckpointKeyRequest request, ServerCallContext context)
    {
        var key = await keys.CheckpointKeyAsync(context.CancellationToken);
        return new CheckpointKey { PublicKeyPem = key.PublicKeyPem, KeyId = key.KeyId, Algorithm = TenantKeyUse.CheckpointAlgorithm };
    }
}
