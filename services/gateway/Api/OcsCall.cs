using Grpc.Core;
using Keyward.Common.Errors;
using Keyward.Gateway.Core;

namespace Keyward.Gateway.Api;

/// <summary>
/// How every E2EE OCS endpoint runs: the client gate, the call, and one way to answer whatever goes wrong —
/// a refusal through <see cref="OcsRefusalTable"/>, an unreadable request with the endpoint's 400, an outage
/// with 503 and Retry-After, a passed deadline with 504, anything else with 500 and a correlation id.
/// </summary>
public static class OcsCall
{
    public static async Task<IResult> RunAsync(HttpContext http, OcsFlavor flavor, OcsOperation operation, bool gated, Func<Task<OcsAnswer>> action,
        int apiVersion = 2, string id = "")
    {
        try
        {
            if (gated && await ClientGate.RefuseAsync(http, flavor) is { } refused)
            {
                return refused;
            }

            return new OcsResult(flavor, await action());
        }
        catch (RpcException e)
        {
            return new OcsResult(flavor, OcsRefusalTable.Answer(operation, apiVersion == 1, id, e.Reason(), e.Status.Detail) ?? OcsFaults.ForStatus(http, e));
        }
        catch (OcsRequestUnreadableException)
        {
            return new OcsResult(flavor, OcsRefusalTable.Unreadable(operation));
        }
        catch (Exception e) when (e is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
        {
            return new OcsResult(flavor, OcsFaults.ForException(http, e));
        }
    }
}
