using Keyward.AuditTrail;

namespace Keyward.Common.Audit;

/// <summary>
/// An audit event waiting to be published: stored in the same Marten transaction as the state change it
/// records, so an action and its audit record commit together or not at all. The relay publishes it and,
/// once the broker has confirmed, deletes it.
/// </summary>
public sealed class AuditOutboxMessage
{
    /// <summary>The event id, so a message is stored once however often a write is retried.</summary>
    public Guid Id { get; set; }

    public AuditEvent Event { get; set; } = null!;

    public DateTimeOffset CreatedAt { get; set; }
}
