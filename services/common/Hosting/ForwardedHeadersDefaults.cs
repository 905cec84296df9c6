using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Keyward.Common.Hosting;

/// <summary>
/// The client address in the audit trail comes from X-Forwarded-For only when the request arrives from a
/// configured proxy (<c>Keyward:ForwardedHeaders:KnownProxies</c> / <c>KnownNetworks</c>; by default loopback
/// alone): ASP.NET Core's middleware then sets <c>Connection.RemoteIpAddress</c>. Anyone else's header is ignored.
/// </summary>
public static class ForwardedHeadersDefaults
{
    public const string Section = "Keyward:ForwardedHeaders";

    public static WebApplicationBuilder AddKeywardForwardedHeaders(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(Section);
        var proxies = section.GetSection("KnownProxies").Get<string[]>() ?? [];
        var networks = section.GetSection("KnownNetworks").Get<string[]>() ?? [];
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            // One hop: the gateway in front of a service, or the ingress in front of the gateway.
            options.ForwardLimit = 1;
            if (proxies.Length + networks.Length > 0)
            {
                // Configured proxies replace the loopback default: in a cluster only the ingress or the gateway is one.
                options.KnownProxies.Clear();
                options.KnownIPNetworks.Clear();
            }

            foreach (var proxy in proxies)
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in networks)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return builder;
    }
}
