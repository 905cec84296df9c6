using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Gateway.Core;

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

        await http.RequestServices.GetRequiredService<IAuditTrail>().RecordAsync("ocs.client.refused",
            new AuditTarget("endpoint", $"{http.Request.Method} {http.Request.Path}"), AuditOutcome.Denied("CLIENT_NOT_ALLOWED"), http.RequestAborted);
        return new OcsResult(flavor, OcsAnswer.Thrown(403, E2eeClientPolicy.RefusalMessage(userAgent)));
    }
}
