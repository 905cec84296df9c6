using Grpc.Core;
using Keyward.Common.Auth;
using Keyward.Common.V1;
using Keyward.Keyserver.V1;

namespace Keyward.Keyserver.Api;

public sealed class KeyServerApi(TenantContext caller) : KeyServer.KeyServerBase
{
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(KeyserverSetup.ServiceName));
}
