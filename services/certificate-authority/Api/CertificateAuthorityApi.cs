using Grpc.Core;
using Keyward.CertificateAuthority.V1;
using Keyward.Common.Auth;
using Keyward.Common.V1;

namespace Keyward.CertificateAuthority.Api;

public sealed class CertificateAuthorityApi(TenantContext caller) : V1.CertificateAuthority.CertificateAuthorityBase
{
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(CertificateAuthoritySetup.ServiceName));
}
