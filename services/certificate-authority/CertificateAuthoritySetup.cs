using Keyward.CertificateAuthority.Adapters.Pkcs11;
using Keyward.CertificateAuthority.Adapters.Storage;
using Keyward.CertificateAuthority.Api;
using Keyward.CertificateAuthority.Core;
using Keyward.Common.Audit;
using Keyward.AuditTrail;
using Keyward.Common.Health;
using Keyward.Common.Messaging;
using Keyward.Common.Storage;

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
        builder.Services.AddOptions<CaOptions>()
            .Bind(builder.Configuration.GetSection(CaOptions.Section))
            .Validate(CaOptions.IsValid, "Keyward:Ca:RsaKeySize must be 2048, 3072 or 4096 and ValidityDays 1 to 36500.")
            .ValidateOnStart();
        builder.Services.AddSingleton<Pkcs11Token>();
        builder.Services.AddSingleton<Pkcs11TenantKeys>();
        builder.Services.AddSingleton<ITenantKeys>(sp => sp.GetRequiredService<Pkcs11TenantKeys>());
        builder.Services.AddSingleton<HsmTokenHealthCheck>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<CaOptions>>().Value);
        builder.Services.AddSingleton<SigningBudget>();
        builder.Services.AddScoped<CertificateIssuance>();
        builder.Services.AddScoped<TenantKeyUse>();
        builder.Services.AddScoped<TreeHeadSigning>();
        builder.Services.AddScoped<ISignedTreeHeads, MartenSignedTreeHeads>();
        builder.Services.AddSingleton(builder.Configuration.GetSection(LogOrigins.Section).Get<TransparencyOptions>() ?? new TransparencyOptions());
        builder.AddKeywardMarten(schemaName: "certificate_authority", options =>
        {
            options.AddAuditOutbox();
            options.Schema.For<StoredTreeHead>().UseOptimisticConcurrency(true);
        });
        builder.AddKeywardMessaging();
        builder.AddAuditRecorder(ServiceName);
        builder.Services.AddHealthChecks().Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
            "hsm", sp => sp.GetRequiredService<HsmTokenHealthCheck>(), failureStatus: null, tags: [HealthDefaults.ReadyTag]));
        return builder;
    }

    public static WebApplication MapCertificateAuthority(this WebApplication app)
    {
        app.MapGrpcService<CertificateAuthorityApi>();
        return app;
    }
}
