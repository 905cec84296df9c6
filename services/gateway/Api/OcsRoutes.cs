using Keyward.Gateway.Domain;

namespace Keyward.Gateway.Api;

/// <summary>Where the Nextcloud wire API lives: both OCS entry points, both E2EE API versions.</summary>
public static class OcsRoutes
{
    public static WebApplication MapOcs(this WebApplication app)
    {
        foreach (var (entry, flavor) in new[] { ("/ocs/v1.php", OcsFlavor.V1), ("/ocs/v2.php", OcsFlavor.V2) })
        {
            OcsCapabilities.Map(app, entry, flavor);
            foreach (var apiVersion in new[] { "v1", "v2" })
            {
                OcsKeyEndpoints.Map(app.MapGroup($"{entry}/apps/end_to_end_encryption/api/{apiVersion}"), flavor);
            }
        }

        return app;
    }
}
