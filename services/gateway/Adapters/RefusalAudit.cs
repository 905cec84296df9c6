using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Keyward.Gateway.Core;
using Marten;

namespace Keyward.Gateway.Adapters;

/// <summary>
/// Counts refused tokens that name a known tenant (a token naming no known tenant has no trail to go to and is
/// only logged); <see cref="RefusalAuditFlusher"/> writes each closed window as one row in that tenant's trail.
/// </summary>
public sealed class RefusalAudit(RefusedTokenTally tally, TimeProvider clock, ILogger<RefusalAudit> logger) : IRefusedTokenObserver
{
    public Task RefusedAsync(HttpContext context, TokenCheck refusal)
    {
        if (refusal.ClaimedTenant is null)
        {
            return Task.CompletedTask;
        }

        if (!tally.Count(refusal.ClaimedTenant, context.Connection.RemoteIpAddress?.ToString() ?? "", refusal.ClaimedSubject, refusal.Error ?? "refused",
                context.Request.Headers.UserAgent.ToString(), $"{context.Request.Method} {context.Request.Path.Value}", clock.GetUtcNow()))
        {
            logger.LogWarning("Too many sources refused at once: a refused token for tenant {TenantId} is counted in the log only", refusal.ClaimedTenant);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Writes closed refused-token windows into the tenants' trails through the outbox (and the open ones on shutdown).</summary>
public sealed class RefusalAuditFlusher(RefusedTokenTally tally, IDocumentStore store, TimeProvider clock, ILogger<RefusalAuditFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(tally.TakeClosed(clock.GetUtcNow()), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await FlushAsync(tally.TakeClosed(clock.GetUtcNow(), all: true), CancellationToken.None);
        }
    }

    private async Task FlushAsync(IReadOnlyList<RefusedTokenWindow> windows, CancellationToken ct)
    {
        foreach (var tenant in windows.GroupBy(w => w.TenantId))
        {
            try
            {
                await using var session = store.LightweightSession(tenant.Key);
                foreach (var window in tenant)
                {
                    AuditRecorder.Enqueue(session, Row(window));
                }

                await session.SaveChangesAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The requests were refused either way; a database outage costs this count, never a 401 turned 500.
                logger.LogWarning("Could not record {Count} refused-token windows for tenant {TenantId}: {Reason}", tenant.Count(), tenant.Key, e.Message);
            }
        }
    }

    private AuditEvent Row(RefusedTokenWindow w) => new()
    {
        EventId = Guid.CreateVersion7(w.Opened),
        TenantId = w.TenantId,
        OccurredAt = w.Opened,
        Actor = new AuditActor(w.Subject, [], w.Source.Length == 0 ? null : w.Source, w.UserAgent.Length == 0 ? null : w.UserAgent),
        Action = "auth.token.refused",
        Target = new AuditTarget("endpoint", w.Endpoint),
        Outcome = AuditOutcome.Denied(w.Reason),
        Details = new Dictionary<string, string>
        {
            ["subject_verified"] = "false",
            ["count"] = w.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["window_seconds"] = ((int)Math.Ceiling((clock.GetUtcNow() - w.Opened).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        Service = GatewaySetup.ServiceName,
    };
}
