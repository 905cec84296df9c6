using Grpc.Core;
using Keyward.Common.Auth;
using Keyward.Common.V1;
using Keyward.Metadata.V1;

namespace Keyward.Metadata.Api;

public sealed class MetadataServiceApi(TenantContext caller) : MetadataService.MetadataServiceBase
{
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(MetadataSetup.ServiceName));
}
