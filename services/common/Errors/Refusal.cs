using Keyward.Common.V1;

namespace Keyward.Common.Errors;

/// <summary>What kind of "no" a refusal is; the gRPC interceptor turns each into one status code.</summary>
public enum RefusalKind
{
    InvalidArgument,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    FailedPrecondition,

    /// <summary>A limit was reached; the caller may try again after <see cref="Refusal.RetryAfter"/>.</summary>
    Exhausted,
}

/// <summary>
/// A use case's typed "no": kind + reason + a message the caller may read. Thrown by Core code, which knows
/// no transport; <see cref="Grpc.RefusalInterceptor"/> is the one place that turns it into a gRPC status.
/// </summary>
public sealed class Refusal(RefusalKind kind, RefusalReason reason, string message, IReadOnlyDictionary<string, string>? details = null)
    : Exception(message)
{
    public RefusalKind Kind { get; } = kind;

    public RefusalReason Reason { get; } = reason;

    /// <summary>Machine-readable context for the caller (e.g. which user id was missing); never secrets.</summary>
    public IReadOnlyDictionary<string, string> Details { get; } = details ?? new Dictionary<string, string>();

    public static Refusal Invalid(RefusalReason reason, string message) => new(RefusalKind.InvalidArgument, reason, message);

    public static Refusal NotFound(RefusalReason reason, string message, IReadOnlyDictionary<string, string>? details = null) => new(RefusalKind.NotFound, reason, message, details);

    public static Refusal Exists(RefusalReason reason, string message) => new(RefusalKind.AlreadyExists, reason, message);

    public static Refusal Denied(RefusalReason reason, string message) => new(RefusalKind.PermissionDenied, reason, message);

    public static Refusal Precondition(RefusalReason reason, string message) => new(RefusalKind.FailedPrecondition, reason, message);

    public static Refusal Exhausted(string message, TimeSpan retryAfter) =>
        new(RefusalKind.Exhausted, RefusalReason.RateLimited, message, new Dictionary<string, string> { [RetryAfterKey] = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>The detail that says, in whole seconds, when an exhausted limit may be tried again.</summary>
    public const string RetryAfterKey = "retry_after_seconds";
}

/// <summary>
/// A dependency (database, HSM, another service) is away: the caller's request was fine and may be retried.
/// Adapters throw it (or let a transient driver exception through, which <see cref="Faults"/> recognises).
/// </summary>
public class DependencyUnavailableException(RefusalReason reason, string message, Exception? inner = null) : Exception(message, inner)
{
    public RefusalReason Reason { get; } = reason;
}
