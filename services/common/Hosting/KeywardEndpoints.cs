using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;

namespace Keyward.Common.Hosting;

/// <summary>
/// Every process listens on two cleartext ports: HTTP/1.1 (REST, OCS, probes) and HTTP/2 (gRPC).
/// Kestrel speaks h2c only on an endpoint set to HTTP/2 alone, hence two ports.
/// </summary>
public static class KeywardEndpoints
{
    public static WebApplicationBuilder AddKeywardEndpoints(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var bind = IPAddress.Parse(config["Keyward:BindAddress"] ?? "0.0.0.0");
        var httpPort = config.GetValue("Keyward:Ports:Http", 8080);
        var grpcPort = config.GetValue("Keyward:Ports:Grpc", 8081);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(bind, httpPort, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Listen(bind, grpcPort, listen => listen.Protocols = HttpProtocols.Http2);
        });
        return builder;
    }
}
