using System.Diagnostics.Metrics;
using Keyward.AuditTrail;
using Keyward.Common.Storage;
using Keyward.Common.Telemetry;
using Marten;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Keyward.Common.Audit;

public sealed class OutboxRelayOptions
{
    public const string Section = "Keyward:Audit:Outbox";

    public int BatchSize { get; set; } = 500;

    /// <summary>A publish waits for the broker's confirm at most this long (MassTransit waits forever while RabbitMQ is down).</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an idle relay looks again when no commit woke it.</summary>
    public TimeSpan IdlePoll { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// After a commit wakes it, the relay waits this long so that the events of the calls around it go out in
    /// one batch: one query, one publish round, one delete, and one chain append in the audit service, instead
    /// of one each per call. Audit events arrive this much later; zero relays each commit on its own.
    /// </summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// The longest pause between attempts while RabbitMQ is away. An attempt then costs one connection attempt and no
    /// broker load, and the pause is how long the backlog may sit after the broker is back (a 30 s cap could leave it
    /// waiting half a minute more: docs/reliability.md).
    /// </summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Publishes the audit outbox to RabbitMQ: oldest first, every tenant, each publish confirmed within a
/// timeout, then deletes the batch: the outbox is a queue, and the audit chain is the durable record. Keeping
/// sent rows made every poll scan all of them (measured: 35k kept rows made PostgreSQL the main CPU consumer
/// of certificate issuance). While RabbitMQ is away it backs off and tries again; nothing is lost, and the
/// audit service ignores a message it has already chained (a crash between publish and delete). Replicas of a
/// service share one outbox: a pass holds a transaction-scoped advisory lock on it, so two relays take turns
/// instead of publishing the same rows twice, and a relay that dies mid-pass lets the other go on at once.
/// </summary>
public sealed class AuditOutboxRelay(
    IDocumentStore store,
    IBus bus,
    OutboxSignal signal,
    IOptions<OutboxRelayOptions> options,
    TimeProvider clock,
    ILogger<AuditOutboxRelay> logger) : BackgroundService
{
    private static readonly Meter Meter = new(TelemetryDefaults.InstrumentationName);
    private long _depth;
    private double _oldestAgeSeconds;
    private DateTimeOffset _lastStatistics = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Meter.CreateObservableGauge("keyward.audit.outbox.depth", () => Volatile.Read(ref _depth), description: "audit events not yet published");
        Meter.CreateObservableGauge("keyward.audit.outbox.oldest_age", () => Volatile.Read(ref _oldestAgeSeconds), unit: "s", description: "age of the oldest unpublished audit event");
        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var published = await RelayOnceAsync(stoppingToken);
                backoff = TimeSpan.Zero;
                await MeasureAsync(stoppingToken);
                if (published < options.Value.BatchSize && await signal.WaitAsync(options.Value.IdlePoll, stoppingToken) && options.Value.BatchWindow > TimeSpan.Zero)
                {
                    await Task.Delay(options.Value.BatchWindow, clock, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.Value.MaxBackoff.Ticks));
                logger.LogWarning("Audit outbox relay could not publish ({Reason}); retrying in {Backoff}", e.Message, backoff);
                await Task.Delay(backoff, stoppingToken);
            }
        }
    }

    /// <summary>Publishes one batch; returns how many events went out.</summary>
    public async Task<int> RelayOnceAsync(CancellationToken cancellationToken)
    {
        await using var turn = await AdvisoryTurn.TakeAsync(store.Storage.Database.CreateConnection(),
            $"keyward-audit-outbox/{store.Options.DatabaseSchemaName}", cancellationToken);
        IReadOnlyList<AuditOutboxMessage> batch;
        await using (var query = store.QuerySession())
        {
            batch = await query.Query<AuditOutboxMessage>()
                .Where(m => m.AnyTenant())
                .OrderBy(m => m.CreatedAt)
                .Take(options.Value.BatchSize)
                .ToListAsync(cancellationToken);
        }

        if (batch.Count == 0)
        {
            return 0;
        }

        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(options.Value.PublishTimeout);
            // The whole batch as one message, in outbox order: one publish and one confirm, and the chain keeps that
            // order (one message per event cost a confirm each: docs/performance.md).
            await bus.Publish(new AuditEventBatch { Events = batch.Select(m => m.Event).ToList() }, timeout.Token);
        }

        foreach (var tenant in batch.GroupBy(m => m.Event.TenantId))
        {
            var ids = tenant.Select(m => m.Id).ToArray();
            await using var session = store.LightweightSession(tenant.Key);
            session.DeleteWhere<AuditOutboxMessage>(m => ids.Contains(m.Id));
            await session.SaveChangesAsync(cancellationToken);
        }

        return batch.Count;
    }

    private async Task MeasureAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (now - _lastStatistics < TimeSpan.FromSeconds(5))
        {
            return;
        }

        _lastStatistics = now;
        await using var query = store.QuerySession();
        var pending = query.Query<AuditOutboxMessage>().Where(m => m.AnyTenant());
        Volatile.Write(ref _depth, await pending.CountAsync(cancellationToken));
        var oldest = await pending.OrderBy(m => m.CreatedAt).Select(m => m.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        Volatile.Write(ref _oldestAgeSeconds, oldest == default ? 0 : (now - oldest).TotalSeconds);
    }
}

/// <summary>Wakes the relay as soon as a transaction with audit events commits, instead of waiting for its next poll.</summary>
public sealed class OutboxSignal
{
    public static readonly OutboxSignal Instance = new();
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up covers every commit before it.
        }
    }

    /// <summary>True when a commit signalled, false when the timeout passed.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}

/// <summary>Marten listener that signals the relay after a commit that stored audit events.</summary>
internal sealed class OutboxCommitListener : DocumentSessionListenerBase
{
    public override Task AfterCommitAsync(IDocumentSession session, Marten.Services.IChangeSet commit, CancellationToken token)
    {
        if (commit.Inserted.OfType<AuditOutboxMessage>().Any())
        {
            OutboxSignal.Instance.Notify();
        }

        return Task.CompletedTask;
    }
}
