namespace Keyward.AuditTrail;

/// <summary>
/// One audited action, as published to RabbitMQ and chained by the audit service. Carries ids, hashes
/// and sizes only — never a secret, a key, a token or ciphertext.
/// </summary>
public sealed record AuditEvent
{
    /// <summary>UUIDv7: unique, and ordered by creation time.</summary>
    public required Guid EventId { get; init; }

    public required string TenantId { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }

    public required AuditActor Actor { get; init; }

    /// <summary>What happened, dotted and in the past tense: <c>keys.certificate.issued</c>.</summary>
    public required string Action { get; init; }

    public required AuditTarget Target { get; init; }

    public required AuditOutcome Outcome { get; init; }

    public IReadOnlyDictionary<string, string> Details { get; init; } = new Dictionary<string, string>();

    public string? TraceId { get; init; }

    /// <summary>The service that recorded the event.</summary>
    public required string Service { get; init; }

    /// <summary>
    /// Base64 of the CA's receipt when another service carries a CA event to the log (<see cref="AuditReceipt"/>);
    /// otherwise null. Not part of the canonical bytes: it vouches for the event on its way, the log's checkpoints after.
    /// </summary>
    public string? Receipt { get; init; }
}

public sealed record AuditActor(string UserId, IReadOnlyList<string> Roles, string? ClientAddress, string? UserAgent);

public sealed record AuditTarget(string Type, string Id);

/// <summary><c>success</c>, <c>denied</c> (refused by policy) or <c>failed</c> (bad input or an error), with a reason.</summary>
public sealed record AuditOutcome(string Result, string? Reason = null)
{
    public static readonly AuditOutcome Success = new("success");

    public static AuditOutcome Denied(string reason) => new("denied", reason);

    public static AuditOutcome Failed(string reason) => new("failed", reason);
}
