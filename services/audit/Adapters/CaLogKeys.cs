using Keyward.Audit.Core;
using Keyward.CertificateAuthority.V1;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.Audit.Adapters;

/// <summary>The log key and the CA's own record of what it signed, asked with the caller's own token.</summary>
public sealed class CaLogKeys(CaClient ca) : ILogKeys
{
    public async Task<string> PublicKeyPemAsync(CancellationToken cancellationToken) =>
        (await ca.GetCheckpointKeyAsync(new GetCheckpointKeyRequest(), cancellationToken: cancellationToken)).PublicKeyPem;

    public async Task<string?> LatestSignedAsync(string origin, CancellationToken cancellationToken)
    {
        var latest = await ca.GetLatestTreeHeadAsync(new GetLatestTreeHeadRequest { Origin = origin }, cancellationToken: cancellationToken);
        return latest.SignedNote.Length == 0 ? null : latest.SignedNote;
    }
}

/// <summary>A tenant's log key for checking receipts, asked of the CA as the service identity (the intake has no caller).</summary>
public sealed class CaReceiptKeys(CaClient ca, Keyward.Common.Auth.ServiceTokens tokens) : IReceiptKeys
{
    public async Task<string> LogKeyPemAsync(string tenantId, CancellationToken cancellationToken)
    {
        var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {tokens.For(tenantId)}" } };
        var key = await ca.GetCheckpointKeyAsync(new GetCheckpointKeyRequest(), headers, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken);
        return key.PublicKeyPem;
    }
}
