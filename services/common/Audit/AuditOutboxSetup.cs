using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Keyward.Common.Audit;

public static class AuditOutboxSetup
{
    /// <summary>Registers the outbox table with Marten and the recorder that writes to it.</summary>
    public static void AddAuditOutbox(this StoreOptions options)
    {
        options.Schema.For<AuditOutboxMessage>()
            .Identity(m => m.Id)
            // The relay reads oldest first: with this index a poll costs a batch, however deep the backlog.
            .Index(m => m.CreatedAt);
        options.Listeners.Add(new OutboxCommitListener());
    }

    public static WebApplicationBuilder AddAuditRecorder(this WebApplicationBuilder builder, string serviceName)
    {
        builder.Services.AddSingleton(new AuditServiceName(serviceName));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddScoped<AuditRecorder>();
        builder.Services.AddScoped<IAuditEventSource>(sp => sp.GetRequiredService<AuditRecorder>());
        builder.Services.AddScoped<IAuditTrail, OutboxAuditTrail>();
        builder.Services.AddSingleton(OutboxSignal.Instance);
        builder.Services.AddOptions<OutboxRelayOptions>().Bind(builder.Configuration.GetSection(OutboxRelayOptions.Section));
        builder.Services.AddHostedService<AuditOutboxRelay>();
        return builder;
    }
}
