using System.Net.Sockets;
using Keyward.Common.V1;
using Npgsql;

namespace Keyward.Common.Errors;

/// <summary>
/// Tells an outage (the database, the HSM or a service away: retry later) from a defect (a bug: 500 with a
/// correlation id). Marten and MassTransit wrap driver exceptions, so the whole inner chain is looked at.
/// </summary>
public static class Faults
{
    /// <summary>What an outage answer asks a caller to wait before trying again, in seconds (the Retry-After header).</summary>
    public const int RetryAfterSeconds = 5;

    public static string RetryAfter => RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The id a caller quotes and the log carries for a defect: the trace id, else the request's own id.</summary>
    public static string CorrelationId(Microsoft.AspNetCore.Http.HttpContext http) =>
        System.Diagnostics.Activity.Current?.TraceId is { } traceId && traceId != default ? traceId.ToString() : http.TraceIdentifier;

    /// <summary>The reason of the outage behind <paramref name="error"/>, or null when it is no outage.</summary>
    public static RefusalReason? Outage(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case DependencyUnavailableException unavailable:
                    return unavailable.Reason;
                case PostgresException postgres:
                    // Connection (08), resources (53), operator intervention such as a shutdown (57P), system (58).
                    return postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState.StartsWith("53", StringComparison.Ordinal)
                        || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal) || postgres.SqlState.StartsWith("58", StringComparison.Ordinal)
                        ? RefusalReason.StoreUnavailable
                        : null;
                case NpgsqlException:
                    // Not a server error: the connection itself failed (refused, reset, pool timeout).
                    return RefusalReason.StoreUnavailable;
                case SocketException:
                    return RefusalReason.DependencyUnavailable;
            }
        }

        return null;
    }
}
