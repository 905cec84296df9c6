using Keyward.Audit.Jobs;
using Keyward.AuditTrail;
using MassTransit;

namespace Keyward.Audit.Adapters;

/// <summary>
/// Appends what arrives from RabbitMQ to the tenants' chains, a batch per tenant in one transaction.
/// The batch is acknowledged only after it is committed: a crash means redelivery, and redelivered
/// events are recognised by id, so the chain gets neither gaps nor duplicates.
/// </summary>
public sealed class AuditEventsConsumer(ChainStore chain, Checkpointer checkpointer, ILogger<AuditEventsConsumer> logger) : IConsumer<Batch<AuditEvent>>
{
    public async Task Consume(ConsumeContext<Batch<AuditEvent>> context)
    {
        foreach (var tenant in context.Message.Select(m => m.Message).GroupBy(e => e.TenantId))
        {
            var (sequence, hash, appended) = await chain.AppendAsync(tenant.Key, tenant.ToList(), context.CancellationToken);
            if (appended < tenant.Count())
            {
                logger.LogInformation("Ignored {Count} audit events of tenant {TenantId} already in the chain", tenant.Count() - appended, tenant.Key);
            }

            await checkpointer.SignIfDueAsync(tenant.Key, sequence, hash, context.CancellationToken);
        }
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
