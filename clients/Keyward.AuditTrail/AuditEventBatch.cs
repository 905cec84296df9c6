namespace Keyward.AuditTrail;

/// <summary>
/// A service's outbox batch of audit events, oldest first, as one broker message: one publish and one confirm for the
/// whole batch instead of one per event. Its exchange is <c>Keyward.AuditTrail:AuditEventBatch</c>, next to the single
/// events' (broker permissions: docs/operations.md).
/// </summary>
public sealed record AuditEventBatch
{
    public required IReadOnlyList<AuditEvent> Events { get; init; }
}
