using Keyward.Audit.Api;
using Keyward.Common.Messaging;
using Keyward.Common.Storage;

namespace Keyward.Audit;

public static class AuditSetup
{
    public const string ServiceName = "audit";

    public static WebApplicationBuilder AddAudit(this WebApplicationBuilder builder)
    {
        builder.AddKeywardMarten(schemaName: "audit", _ => { });
        builder.AddKeywardMessaging();
        return builder;
    }

    public static WebApplication MapAudit(this WebApplication app)
    {
        app.MapGrpcService<AuditServiceApi>();
        return app;
    }
}
