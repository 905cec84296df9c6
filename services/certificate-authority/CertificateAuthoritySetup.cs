using Keyward.CertificateAuthority.Api;
using Keyward.CertificateAuthority.Storage.Pkcs11;
using Keyward.Common.Health;

namespace Keyward.CertificateAuthority;

public static class CertificateAuthoritySetup
{
    public const string ServiceName = "certificate-authority";

    public static WebApplicationBuilder AddCertificateAuthority(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<HsmOptions>()
            .Bind(builder.Configuration.GetSection(HsmOptions.Section))
            .Validate(o => !string.IsNullOrWhiteSpace(o.ModulePath) && !string.IsNullOrWhiteSpace(o.TokenLabel),
                "Keyward:Hsm:ModulePath and Keyward:Hsm:TokenLabel must be set.")
            .ValidateOnStart();
        builder.Services.AddSingleton<Pkcs11Token>();
        builder.Services.AddHealthChecks().AddCheck<HsmTokenHealthCheck>("hsm", tags: [HealthDefaults.ReadyTag]);
        return builder;
    }

    public static WebApplication MapCertificateAuthority(this WebApplication app)
    {
        app.MapGrpcService<CertificateAuthorityApi>();
        return app;
    }
}
