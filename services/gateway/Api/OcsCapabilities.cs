using System.Text.Json.Nodes;
using Keyward.Gateway.Core;
using Keyward.Keyserver.V1;
using KeysClient = Keyward.Keyserver.V1.Keyserver.KeyserverClient;

namespace Keyward.Gateway.Api;

/// <summary>
/// The capabilities block (reference §a.1). Keyward advertises API 2.1, the reference's current one (2.0 plus
/// public-share keys and DELETE encrypted-files); keys-exist is true when the caller has both a certificate and a private key.
/// Through a tenant's front door the block is put into the instance's own capabilities for the same caller (anonymous
/// callers get the instance's unchanged, without the block, as on the reference).
/// </summary>
public static class OcsCapabilities
{
    public const string ApiVersion = "2.1";

    public static bool IsCapabilities(PathString path) =>
        path.Equals("/ocs/v1.php/cloud/capabilities", StringComparison.Ordinal) || path.Equals("/ocs/v2.php/cloud/capabilities", StringComparison.Ordinal);

    public static void Map(IEndpointRouteBuilder app, string ocsPrefix, OcsFlavor flavor)
    {
        app.MapGet($"{ocsPrefix}/cloud/capabilities", (HttpContext http, KeysClient keys) => OcsCall.RunAsync(http, flavor, OcsOperation.Capabilities, gated: false, async () =>
        {
            var caller = http.Features.Get<FrontDoorCaller>();
            var instance = caller is null ? null
                : await http.RequestServices.GetRequiredService<Adapters.NextcloudInstance>().CapabilitiesAsync(caller.Tenant, caller.InstanceCredentials, http.RequestAborted);
            if (caller is not null && instance is null)
            {
                return OcsAnswer.Thrown(503, "The Nextcloud instance did not give its capabilities; try again later") with
                {
                    Headers = new Dictionary<string, string> { ["Retry-After"] = Common.Errors.Faults.RetryAfter },
                };
            }

            var status = await keys.GetKeyStatusAsync(new GetKeyStatusRequest(), cancellationToken: http.RequestAborted);
            var block = new JsonObject
            {
                ["enabled"] = true,
                ["api-version"] = ApiVersion,
                ["keys-exist"] = status.HasCertificate && status.HasPrivateKey,
                // Keyward extension: users are told when an escrow copy of their key is kept for the admins.
                ["keyward-recovery-enabled"] = status.RecoveryEnabled,
            };
            if (instance is null)
            {
                return OcsAnswer.Ok(new JsonObject { ["capabilities"] = new JsonObject { ["end-to-end-encryption"] = block } });
            }

            if (instance["capabilities"] is not JsonObject capabilities)
            {
                instance["capabilities"] = capabilities = new JsonObject();
            }

            capabilities["end-to-end-encryption"] = block;
            return OcsAnswer.Ok(instance);
        }));
    }
}
