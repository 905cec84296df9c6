using Keyward.Common.Audit;
using Keyward.AuditTrail;
using Keyward.Common.Grpc;
using Keyward.Common.Messaging;
using Keyward.Common.Storage;
using Keyward.Keyserver.Adapters;
using Keyward.Keyserver.Api;
using Keyward.Keyserver.Core;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.Keyserver;

public static class KeyserverSetup
{
    public const string ServiceName = "keyserver";

    public static WebApplicationBuilder AddKeyserver(this WebApplicationBuilder builder)
    {
        builder.AddKeywardMarten(schemaName: "keyserver", options =>
        {
            options.Schema.For<StoredCertificate>();
            options.Schema.For<StoredPrivateKey>();
            options.Schema.For<StoredDeviceRequest>().Index(r => r.UserId);
            options.Schema.For<StoredRecoveryPolicy>();
            options.Schema.For<StoredEscrow>();
            options.AddAuditOutbox();
        });
        builder.AddKeywardMessaging();
        builder.AddAuditRecorder(ServiceName);
        builder.AddKeywardGrpcClient<CaClient>("certificate-authority");
        builder.Services.AddScoped<IKeyStore, MartenKeyStore>();
        builder.Services.AddScoped<ICertificateSigner, CaCertificateSigner>();
        builder.Services.AddScoped<KeyContext>();
        return builder;
    }

    public static WebApplication MapKeyserver(this WebApplication app)
    {
        app.MapGrpcService<KeyserverApi>();
        return app;
    }
}
