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
public sealed class AuditEventsConsumer(AuditIntake intake) : IConsumer<Batch<AuditEvent>>
{
    public async Task Consume(ConsumeContext<Batch<AuditEvent>> context)
    {
        var screened = new List<AuditEvent>(context.Message.Length);
        foreach (var message in context.Message)
        {
            screened.Add(await intake.ScreenAsync(message.Message, AuditIntake.PublisherOf(message), context.CancellationToken));
        }

        await intake.AppendAsync(screened, context.CancellationToken);
    }
}

/// <summary>
/// The services' outbox batches (one message per relay pass), each event checked against the broker user that published
/// its batch; a few batches go into one append. Their own queue, with a small prefetch: a batch holds up to
/// <c>Keyward:Audit:Outbox:BatchSize</c> events, and a backlog after an outage must not all be in memory at once.
/// </summary>
public sealed class AuditEventBatchesConsumer(AuditIntake intake) : IConsumer<Batch<AuditEventBatch>>
{
    public async Task Consume(ConsumeContext<Batch<AuditEventBatch>> context)
    {
        var screened = new List<AuditEvent>();
        foreach (var message in context.Message)
        {
            var publisher = AuditIntake.PublisherOf(message);
            foreach (var auditEvent in message.Message.Events)
            {
                screened.Add(await intake.ScreenAsync(auditEvent, publisher, context.CancellationToken));
            }
        }

        await intake.AppendAsync(screened, context.CancellationToken);
    }
}

/// <summary>Screens what arrived and appends it to the tenants' logs, a batch per tenant in one transaction, then pokes the signer.</summary>
public sealed class AuditIntake(LogStore store, CheckpointSigner signer, PublisherPolicy publishers, ReceiptVerifier receipts, TimeProvider clock, ILogger<AuditIntake> logger)
{
    public async Task AppendAsync(IEnumerable<AuditEvent> screened, CancellationToken cancellationToken)
    {
        foreach (var tenant in screened.ToList().GroupBy(e => e.TenantId))
        {
            var events = tenant.ToList();
            var grown = await store.AppendAsync(tenant.Key, events, keepOrder: false, cancellationToken);
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

    /// <summary>A database outage is waited out (about five minutes of retries) before a message goes to the error queue.</summary>
    public static void RetryUntilCommitted(IReceiveEndpointConfigurator endpoint) =>
        endpoint.UseMessageRetry(r => r.Exponential(20, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200)));

    /// <summary>The broker user that published the message (RabbitMQ checks <c>user_id</c> against the connection's user).</summary>
    public static string? PublisherOf(ConsumeContext message) =>
        message.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit) ? rabbit.Properties.UserId : null;

    /// <summary>The event as it may be logged, or, when its publisher may not say it, the refused event of that publisher.</summary>
    public async ValueTask<AuditEvent> ScreenAsync(AuditEvent message, string? publisher, CancellationToken cancellationToken)
    {
        var receiptVerified = publishers.IsCarried(publisher, message) && await receipts.VerifyAsync(message, cancellationToken);
        var problem = publishers.Check(publisher, message, receiptVerified);
        if (problem is null)
        {
            return message;
        }

        logger.LogWarning("Refused an audit event of tenant {TenantId} published as {Publisher}: {Problem}", message.TenantId, publisher ?? "(no user)", problem);
        return PublisherPolicy.Refused(message, publisher, problem, clock.GetUtcNow());
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
        AuditIntake.RetryUntilCommitted(endpointConfigurator);
        consumerConfigurator.Options<BatchOptions>(o => o.SetMessageLimit(BatchSize).SetTimeLimit(TimeSpan.FromMilliseconds(20)).SetConcurrencyLimit(1));
    }
}

public sealed class AuditEventBatchesConsumerDefinition : ConsumerDefinition<AuditEventBatchesConsumer>
{
    /// <summary>Outbox batches per append: with 500 events each, at most 4,000 events in one transaction.</summary>
    public const int BatchesPerAppend = 8;

    public AuditEventBatchesConsumerDefinition()
    {
        EndpointName = "keyward-audit-events-batches";
        Endpoint(e => e.PrefetchCount = BatchesPerAppend * 2);
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<AuditEventBatchesConsumer> consumerConfigurator, IRegistrationContext context)
    {
        AuditIntake.RetryUntilCommitted(endpointConfigurator);
        consumerConfigurator.Options<BatchOptions>(o => o.SetMessageLimit(BatchesPerAppend).SetTimeLimit(TimeSpan.FromMilliseconds(10)).SetConcurrencyLimit(1));
    }
}
