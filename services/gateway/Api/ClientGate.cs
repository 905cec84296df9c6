using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Gateway.Domain;
using Grpc.Core;
using Marten;
using System.Text.Json;

namespace Keyward.Gateway.Api;

/// <summary>The E2EE client gate of the OCS endpoints (reference §a.0): refuses unsupported clients, and audits it.</summary>
public static class ClientGate
{
    /// <summary>Null when the client may go on; otherwise the 403 to answer, already audited.</summary>
    public static async Task<IResult?> RefuseAsync(HttpContext http, OcsFlavor flavor)
    {
        var userAgent = http.Request.Headers.UserAgent.ToString();
        if (E2eeClientPolicy.Allows(userAgent, http.Request.Headers["X-E2EE-SUPPORTED"].ToString()))
        {
            return null;
        }

        var audit = http.RequestServices.GetRequiredService<AuditRecorder>();
        await audit.RecordAloneAsync(http.RequestServices.GetRequiredService<IDocumentStore>(), "ocs.client.refused",
            new AuditTarget("endpoint", $"{http.Request.Method} {http.Request.Path}"), AuditOutcome.Denied("CLIENT_NOT_ALLOWED"),
            cancellationToken: http.RequestAborted);
        return new OcsResult(flavor, OcsAnswer.Thrown(403, E2eeClientPolicy.RefusalMessage(userAgent)));
    }
}

/// <summary>How every OCS endpoint runs: the client gate, the call, and the endpoint's map from refusals to answers.</summary>
public static class OcsCall
{
    public static async Task<IResult> RunAsync(HttpContext http, OcsFlavor flavor, bool gated, Func<Task<OcsAnswer>> action, Func<RpcException, OcsAnswer?> refusal)
    {
        if (gated && await ClientGate.RefuseAsync(http, flavor) is { } refused)
        {
            return refused;
        }

        try
        {
            return new OcsResult(flavor, await action());
        }
        catch (RpcException e)
        {
            return new OcsResult(flavor, refusal(e) ?? OcsErrors.Unexpected(e));
        }
        catch (JsonException)
        {
            // A backend answer the gateway could not read: the reference's catch-all.
            return new OcsResult(flavor, OcsAnswer.Thrown(400, "Internal error"));
        }
    }
}
