using Grpc.Core;
using Keyward.Keyserver.V1;
using Keyward.Metadata.Core;

namespace Keyward.Metadata.Adapters;

/// <summary>The keyserver's certificates, asked with the caller's own token (any user of a tenant may read its users' certificates).</summary>
public sealed class KeyserverCertificates(Keyserver.V1.Keyserver.KeyserverClient keyserver) : IUserCertificates
{
    public async Task<string?> CertificateOfAsync(string userId, CancellationToken cancellationToken)
    {
        try
        {
            var found = await keyserver.GetCertificatesAsync(new GetCertificatesRequest { UserIds = { userId } }, cancellationToken: cancellationToken);
            return found.Certificates.FirstOrDefault(c => c.UserId == userId)?.CertificatePem;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }
}
