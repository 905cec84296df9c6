using Keyward.Common.Audit;
using Keyward.Common.Grpc;
using Keyward.AuditTrail;
using Keyward.Common.Messaging;
using Keyward.Common.Storage;
using Keyward.Metadata.Adapters;
using Keyward.Metadata.Api;
using Keyward.Metadata.Core;
using Keyward.Metadata.Jobs;

namespace Keyward.Metadata;

public static class MetadataSetup
{
    public const string ServiceName = "metadata";

    public static WebApplicationBuilder AddMetadata(this WebApplicationBuilder builder)
    {
        builder.AddKeywardMarten(schemaName: "metadata", options =>
        {
            options.Schema.For<EncryptedFolder>().Index(f => f.ParentId!).Index(f => f.OwnerId);
            options.Schema.For<FolderClaim>();
            options.Schema.For<MetadataBlob>();
            // Every decision in a tree goes through this document: optimistic concurrency serialises them.
            options.Schema.For<TreeLocks>().UseOptimisticConcurrency(true).Index(t => t.OldestLockAt!)
                .Metadata(m => m.TenantId.MapTo(t => t.TenantId));
            options.Events.AddEventType<MetadataVersionRecorded>();
            options.AddAuditOutbox();
        });
        builder.AddKeywardMessaging();
        builder.AddAuditRecorder(ServiceName);
        builder.Services.AddScoped<IFolderStore, MartenFolderStore>();
        builder.Services.AddOptions<FolderRules>().Bind(builder.Configuration.GetSection(FolderRules.Section))
            .Validate(r => r.MaxCounterStep > 0 && r.LockIdleBreakAfter > TimeSpan.Zero, $"{FolderRules.Section}: MaxCounterStep and LockIdleBreakAfter must be positive.");
        builder.Services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<FolderRules>>().Value);
        builder.Services.AddScoped<FolderContext>();
        builder.Services.AddOptions<MetadataLimits>().Bind(builder.Configuration.GetSection(MetadataLimits.Section))
            .Validate(l => l.MaxBytes > 0 && l.MaxUsers > 0 && l.MaxFiledropEntries > 0 && l.WritesPerUser is { IsValid: true }, $"{MetadataLimits.Section}: every limit must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<MetadataLimits>>().Value);
        builder.Services.AddKeyedSingleton(MetadataLimits.WriteBudget, (sp, _) =>
            new Keyward.Common.Limits.CallerBudget(sp.GetRequiredService<MetadataLimits>().WritesPerUser, "metadata writes"));
        builder.Services.AddOptions<SignaturePolicyOptions>().Bind(builder.Configuration.GetSection(SignaturePolicyOptions.Section))
            .Validate(p => p.IsValid, $"{SignaturePolicyOptions.Section}: each policy is 'enforce' or 'audit-only'.").ValidateOnStart();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<SignaturePolicyOptions>>().Value);
        // Signatures are checked against the certificates the keyserver holds, asked with the caller's token.
        builder.AddKeywardGrpcClient<Keyserver.V1.Keyserver.KeyserverClient>("keyserver");
        builder.Services.AddScoped<IUserCertificates, KeyserverCertificates>();
        builder.Services.AddOptions<StaleLockOptions>().Bind(builder.Configuration.GetSection(StaleLockOptions.Section))
            .Validate(o => o.IsValid, $"{StaleLockOptions.Section}: Ttl, Interval and every tenant's TTL must be positive.").ValidateOnStart();
        builder.Services.AddHostedService<StaleLockRollback>();
        // Metadata of a large folder can run to megabytes.
        builder.Services.Configure<Grpc.AspNetCore.Server.GrpcServiceOptions>(o => o.MaxReceiveMessageSize = MetadataDocument.MaxLength * 2 + 64 * 1024);
        return builder;
    }

    public static WebApplication MapMetadata(this WebApplication app)
    {
        app.MapGrpcService<MetadataApi>();
        return app;
    }
}
