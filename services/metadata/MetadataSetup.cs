using Keyward.Metadata.Api;
using Keyward.Common.Messaging;
using Keyward.Common.Storage;

namespace Keyward.Metadata;

public static class MetadataSetup
{
    public const string ServiceName = "metadata";

    public static WebApplicationBuilder AddMetadata(this WebApplicationBuilder builder)
    {
        builder.AddKeywardMarten(schemaName: "metadata", _ => { });
        builder.AddKeywardMessaging();
        return builder;
    }

    public static WebApplication MapMetadata(this WebApplication app)
    {
        app.MapGrpcService<MetadataServiceApi>();
        return app;
    }
}
