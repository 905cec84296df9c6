using Grpc.Core;
using Keyward.Common.Auth;
using Keyward.Common.V1;
using Keyward.Audit.V1;

namespace Keyward.Audit.Api;

public sealed class AuditServiceApi(TenantContext caller) : AuditService.AuditServiceBase
{
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(AuditSetup.ServiceName));
}
