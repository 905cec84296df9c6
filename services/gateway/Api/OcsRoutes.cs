using Keyward.Gateway.Core;

namespace Keyward.Gateway.Api;

/// <summary>Where the Nextcloud wire API lives: both OCS entry points, both E2EE API versions.</summary>
public static class OcsRoutes
{
    public static WebApplication MapOcs(this WebApplication app)
    {
        var limits = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<OcsLimits>>().Value;
        foreach (var (entry, flavor) in new[] { ("/ocs/v1.php", OcsFlavor.V1), ("/ocs/v2.php", OcsFlavor.V2) })
        {
            OcsCapabilities.Map(app, entry, flavor);
            foreach (var apiVersion in new[] { 1, 2 })
            {
                var api = app.MapGroup($"{entry}/apps/end_to_end_encryption/api/v{apiVersion}");
                OcsKeyEndpoints.Map(api, flavor, limits);
                OcsMetadataEndpoints.Map(api, flavor, apiVersion, limits);
            }
        }

        return app;
    }
}
