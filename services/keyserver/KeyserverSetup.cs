using Keyward.Common.Audit;
using Keyward.Common.Auth;
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
            options.Schema.For<PublicShare>();
            options.Schema.For<StoredDeviceRequest>().Index(r => r.UserId);
            options.Schema.For<StoredRecoveryPolicy>();
            options.Schema.For<StoredEscrow>();
            options.Schema.For<StoredRecoveryChange>();
            options.Schema.For<StoredEscrowRelease>().Index(r => r.UserId);
            options.AddAuditOutbox();
        });
        builder.AddKeywardMessaging();
        builder.AddAuditRecorder(ServiceName);
        builder.AddKeywardGrpcClient<CaClient>("certificate-authority");
        builder.Services.AddScoped<IKeyStore, MartenKeyStore>();
        builder.Services.AddSingleton(sp => new ServiceTokens(sp.GetRequiredService<ServiceIdentityOptions>(), ServiceName));
        builder.Services.AddScoped<ICertificateSigner, CaCertificateSigner>();
        builder.Services.AddOptions<RecoveryRules>().Bind(builder.Configuration.GetSection(RecoveryRules.Section))
            .Validate(r => r.Rotate >= 1 && r.Disable >= 1 && r.Release >= 1, $"{RecoveryRules.Section}: every approval count is at least 1.");
        builder.Services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<RecoveryRules>>().Value);
        builder.Services.AddScoped<KeyContext>();
        return builder;
    }

    public static WebApplication MapKeyserver(this WebApplication app)
    {
        app.MapGrpcService<KeyserverApi>();
        return app;
    }
}
