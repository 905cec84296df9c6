using Keyward.AuditTrail;

namespace Keyward.Common.Audit;

/// <summary>
/// The audit port of Core code: records events for the current caller in a transaction of their own (a
/// refusal changes nothing else). Events of a state change go through that change's own unit of work instead,
/// so that they commit together.
/// </summary>
public interface IAuditTrail
{
    Task RecordAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken);
}

/// <summary>
/// Builds events for the current caller without recording them: for events another service commits (the CA hands a
/// certificate's events, with receipts, to the keyserver, which commits them with the certificate).
/// </summary>
public interface IAuditEventSource
{
    AuditEvent Create(AuditRecord record);
}

/// <summary>One audit event as Core code states it; the adapter adds actor, time, trace and service.</summary>
public sealed record AuditRecord(string Action, AuditTarget Target, AuditOutcome Outcome, IReadOnlyDictionary<string, string>? Details = null);

public static class AuditTrailExtensions
{
    public static Task RecordAsync(this IAuditTrail trail, string action, AuditTarget target, AuditOutcome outcome, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? details = null) =>
        trail.RecordAsync([new AuditRecord(action, target, outcome, details)], cancellationToken);
}
