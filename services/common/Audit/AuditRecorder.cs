using System.Diagnostics;
using Keyward.Common.Auth;
using Marten;
using Microsoft.AspNetCore.Http;

using Keyward.AuditTrail;

namespace Keyward.Common.Audit;

/// <summary>
/// Builds audit events for the current caller and puts them into the outbox of an open Marten session;
/// they commit with that session's other changes.
/// </summary>
public sealed class AuditRecorder(TenantContext caller, IHttpContextAccessor http, AuditServiceName service, TimeProvider clock) : IAuditEventSource
{
    public AuditEvent Create(AuditRecord record) => Create(record.Action, record.Target, record.Outcome, record.Details);

    public AuditEvent Create(string action, AuditTarget target, AuditOutcome outcome, IReadOnlyDictionary<string, string>? details = null)
    {
        var request = http.HttpContext?.Request;
        // Already the original client's when a known proxy forwarded the call (see ForwardedHeadersDefaults).
        var clientAddress = http.HttpContext?.Connection.RemoteIpAddress?.ToString();
        return new AuditEvent
        {
            EventId = Guid.CreateVersion7(clock.GetUtcNow()),
            TenantId = caller.TenantId,
            OccurredAt = clock.GetUtcNow(),
            Actor = new AuditActor(caller.UserId, caller.Roles.Order(StringComparer.Ordinal).ToList(), clientAddress, Truncate(UserAgent(request))),
            Action = action,
            Target = target,
            Outcome = outcome,
            Details = details ?? new Dictionary<string, string>(),
            TraceId = Activity.Current?.TraceId.ToString(),
            Service = service.Name,
        };
    }

    /// <summary>Adds the event to the session's outbox; it is stored when the session commits.</summary>
    public AuditEvent Record(IDocumentSession session, string action, AuditTarget target, AuditOutcome outcome, IReadOnlyDictionary<string, string>? details = null)
    {
        var auditEvent = Create(action, target, outcome, details);
        Enqueue(session, auditEvent);
        return auditEvent;
    }

    /// <summary>Adds an event stated by Core code to the session's outbox.</summary>
    public AuditEvent Record(IDocumentSession session, AuditRecord record) => Record(session, record.Action, record.Target, record.Outcome, record.Details);

    /// <summary>
    /// An event of the service itself (a background job), not of a caller: the actor is <c>system:&lt;service&gt;</c>.
    /// </summary>
    public static AuditEvent SystemEvent(string tenantId, string service, string action, AuditTarget target, AuditOutcome outcome, IReadOnlyDictionary<string, string>? details, TimeProvider clock) => new()
    {
        EventId = Guid.CreateVersion7(clock.GetUtcNow()),
        TenantId = tenantId,
        OccurredAt = clock.GetUtcNow(),
        Actor = new AuditActor($"system:{service}", [], null, null),
        Action = action,
        Target = target,
        Outcome = outcome,
        Details = details ?? new Dictionary<string, string>(),
        TraceId = Activity.Current?.TraceId.ToString(),
        Service = service,
    };

    /// <summary>Puts an already built event into the outbox of an open session.</summary>
    public static void Enqueue(IDocumentSession session, AuditEvent auditEvent) =>
        session.Insert(new AuditOutboxMessage { Id = auditEvent.EventId, Event = auditEvent, CreatedAt = auditEvent.OccurredAt });

    // Behind the gateway the User-Agent is the gateway's gRPC client; the caller's travels in its own header.
    private static string? UserAgent(HttpRequest? request) =>
        request?.Headers[Grpc.ServiceClients.ForwardedUserAgentHeader].ToString() is { Length: > 0 } forwarded ? forwarded : request?.Headers.UserAgent.ToString();

    private static string? Truncate(string? value) => string.IsNullOrEmpty(value) ? null : value.Length <= 256 ? value : value[..256];
}

/// <summary>The name a service records its audit events under.</summary>
public sealed record AuditServiceName(string Name);
