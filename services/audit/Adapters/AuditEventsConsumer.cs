using Keyward.Audit.Core;
using Keyward.Audit.Jobs;
using Keyward.AuditTrail;
using MassTransit;

namespace Keyward.Audit.Adapters;

/// <summary>
/// Appends what arrives from RabbitMQ to the tenants' logs, a batch per tenant in one transaction, then pokes
/// the checkpoint signer. Each event must come from the service it names (the broker vouches for the
/// publishing user) and be a kind that service may emit; anything else is not logged as the event it claims to
/// be but as a refused event of its real publisher. The batch is acknowledged only after it is committed: a
/// crash means redelivery, and redelivered events are recognised by id.
/// </summary>
public sealed class AuditEventsConsumer(LogStore store, CheckpointSigner signer, PublisherPolicy publishers, TimeProvider clock, ILogger<AuditEventsConsumer> logger)
    : IConsumer<Batch<AuditEvent>>
{
    public async Task Consume(ConsumeContext<Batch<AuditEvent>> context)
    {
        var accepted = context.Message.Select(m => Screen(m)).ToList();
        foreach (var tenant in accepted.GroupBy(e => e.TenantId))
        {
            var events = tenant.ToList();
            var grown = await store.AppendAsync(tenant.Key, events, keepOrder: false, context.CancellationToken);
            var appended = grown.FirstOrDefault(g => g.Log == LogOrigins.AuditLog).Appended;
            if (appended < events.Count)
            {
                logger.LogInformation("Ignored {Count} audit events of tenant {TenantId} already in the log", events.Count - appended, tenant.Key);
            }

            foreach (var (log, _, _) in grown)
            {
                signer.Poke(tenant.Key, log);
            }
        }
    }

    private AuditEvent Screen(ConsumeContext<AuditEvent> message)
    {
        var publisher = message.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit) ? rabbit.Properties.UserId : null;
        var problem = publishers.Check(publisher, message.Message);
        if (problem is null)
        {
            return message.Message;
        }

        logger.LogWarning("Refused an audit event of tenant {TenantId} published as {Publisher}: {Problem}", message.Message.TenantId, publisher ?? "(no user)", problem);
        return PublisherPolicy.Refused(message.Message, publisher, problem, clock.GetUtcNow());
    }
}

public sealed class AuditEventsConsumerDefinition : ConsumerDefinition<AuditEventsConsumer>
{
    public const int BatchSize = 1000;

    public AuditEventsConsumerDefinition()
    {
        EndpointName = "keyward-audit-events";
        // Prefetch enough for full batches; one batch at a time keeps each tenant's appends in order.
        Endpoint(e => e.PrefetchCount = BatchSize * 2);
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<AuditEventsConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(r => r.Exponential(20, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200)));
        consumerConfigurator.Options<BatchOptions>(o => o.SetMessageLimit(BatchSize).SetTimeLimit(TimeSpan.FromMilliseconds(20)).SetConcurrencyLimit(1));
    }
}
