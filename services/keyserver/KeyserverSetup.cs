using Keyward.Keyserver.Api;
using Keyward.Common.Messaging;
using Keyward.Common.Storage;

namespace Keyward.Keyserver;

public static class KeyserverSetup
{
    public const string ServiceName = "keyserver";

    public static WebApplicationBuilder AddKeyserver(this WebApplicationBuilder builder)
    {
        builder.AddKeywardMarten(schemaName: "keyserver", _ => { });
        builder.AddKeywardMessaging();
        return builder;
    }

    public static WebApplication MapKeyserver(this WebApplication app)
    {
        app.MapGrpcService<KeyServerApi>();
        return app;
    }
}
