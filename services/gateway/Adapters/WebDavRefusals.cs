using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Marten;

namespace Keyward.Gateway.Adapters;

/// <summary>A WebDAV write the front door refused, as the tenant's trail keeps it.</summary>
public sealed record WebDavRefusal(string TenantId, string UserId, string? Source, string? UserAgent, string FolderId, string Method, string Reason);

/// <summary>
/// Puts refused WebDAV writes into the tenant's trail through the gateway's outbox: who, which encrypted folder, which
/// method, why — never the path, which holds names. The refusal stands if the database cannot take it (logged): nothing
/// was written, so nothing is lost but the record of an attempt.
/// </summary>
public sealed class WebDavRefusals(IDocumentStore store, TimeProvider clock, ILogger<WebDavRefusals> logger)
{
    public const string Action = "webdav.write.refused";

    public async Task RecordAsync(WebDavRefusal refusal, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var refused = new AuditEvent
        {
            EventId = Guid.CreateVersion7(now),
            TenantId = refusal.TenantId,
            OccurredAt = now,
            Actor = new AuditActor(refusal.UserId, [], refusal.Source, refusal.UserAgent is { Length: > 256 } agent ? agent[..256] : refusal.UserAgent),
            Action = Action,
            Target = new AuditTarget("folder", refusal.FolderId),
            Outcome = AuditOutcome.Denied(refusal.Reason),
            Details = new Dictionary<string, string> { ["method"] = refusal.Method },
            TraceId = System.Diagnostics.Activity.Current?.TraceId.ToString(),
            Service = GatewaySetup.ServiceName,
        };
        try
        {
            await using var session = store.LightweightSession(refusal.TenantId);
            AuditRecorder.Enqueue(session, refused);
            await session.SaveChangesAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("A refused {Method} at the front door of {TenantId} could not be audited ({Reason})", refusal.Method, refusal.TenantId, e.Message);
        }
    }
}
