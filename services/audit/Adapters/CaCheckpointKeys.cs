using Keyward.Audit.Core;
using Keyward.CertificateAuthority.V1;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.Audit.Adapters;

/// <summary>The checkpoint key from the CA, asked with the caller's own token.</summary>
public sealed class CaCheckpointKeys(CaClient ca) : ICheckpointKeys
{
    public async Task<string> PublicKeyPemAsync(CancellationToken cancellationToken) =>
        (await ca.GetCheckpointKeyAsync(new GetCheckpointKeyRequest(), cancellationToken: cancellationToken)).PublicKeyPem;
}
