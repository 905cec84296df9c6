using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Marten;

namespace Keyward.Gateway.Adapters;

/// <summary>
/// Puts refused tokens that name a known tenant into that tenant's audit trail (through the outbox), so an
/// auditor sees expired or forged tokens aimed at the tenant. A token naming no known tenant has no trail
/// to go to and is only logged. The claimed subject is recorded as unverified.
/// </summary>
public sealed class RefusalAudit(IDocumentStore store, TimeProvider clock, ILogger<RefusalAudit> logger) : IRefusedTokenObserver
{
    public async Task RefusedAsync(HttpContext context, TokenCheck refusal)
    {
        if (refusal.ClaimedTenant is null)
        {
            return;
        }

        var auditEvent = new AuditEvent
        {
            EventId = Guid.CreateVersion7(clock.GetUtcNow()),
            TenantId = refusal.ClaimedTenant,
            OccurredAt = clock.GetUtcNow(),
            Actor = new AuditActor(refusal.ClaimedSubject ?? "", [], context.Connection.RemoteIpAddress?.ToString(), Truncate(context.Request.Headers.UserAgent.ToString())),
            Action = "auth.token.refused",
            Target = new AuditTarget("endpoint", $"{context.Request.Method} {Truncate(context.Request.Path.Value)}"),
            Outcome = AuditOutcome.Denied(refusal.Error ?? "refused"),
            Details = new Dictionary<string, string> { ["subject_verified"] = "false" },
            TraceId = System.Diagnostics.Activity.Current?.TraceId.ToString(),
            Service = GatewaySetup.ServiceName,
        };
        try
        {
            await using var session = store.LightweightSession(refusal.ClaimedTenant);
            AuditRecorder.Enqueue(session, auditEvent);
            await session.SaveChangesAsync(context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The request is refused either way; a database outage must not turn a 401 into a 500.
            logger.LogWarning("Could not record a refused token for tenant {TenantId}: {Reason}", refusal.ClaimedTenant, e.Message);
        }
    }

    private static string? Truncate(string? value) => string.IsNullOrEmpty(value) ? value : value.Length <= 256 ? value : value[..256];
}
