using System.Text.Json.Nodes;
using Keyward.Gateway.Core;
using Keyward.Keyserver.V1;
using KeysClient = Keyward.Keyserver.V1.Keyserver.KeyserverClient;

namespace Keyward.Gateway.Api;

/// <summary>
/// The capabilities block (reference §a.1). Keyward advertises API 2.1, the reference's current one (2.0 plus
/// public-share keys and DELETE encrypted-files); keys-exist is true when the caller has both a certificate and a private key.
/// </summary>
public static class OcsCapabilities
{
    public const string ApiVersion = "2.1";

    public static void Map(IEndpointRouteBuilder app, string ocsPrefix, OcsFlavor flavor)
    {
        app.MapGet($"{ocsPrefix}/cloud/capabilities", (HttpContext http, KeysClient keys) => OcsCall.RunAsync(http, flavor, OcsOperation.Capabilities, gated: false, async () =>
        {
            var status = await keys.GetKeyStatusAsync(new GetKeyStatusRequest(), cancellationToken: http.RequestAborted);
            var block = new JsonObject
            {
                ["enabled"] = true,
                ["api-version"] = ApiVersion,
                ["keys-exist"] = status.HasCertificate && status.HasPrivateKey,
                // Keyward extension: users are told when an escrow copy of their key is kept for the admins.
                ["keyward-recovery-enabled"] = status.RecoveryEnabled,
            };
            return OcsAnswer.Ok(new JsonObject { ["capabilities"] = new JsonObject { ["end-to-end-encryption"] = block } });
        }));
    }
}
