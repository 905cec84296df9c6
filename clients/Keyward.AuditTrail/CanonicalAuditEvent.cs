using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Keyward.AuditTrail;

/// <summary>
/// The one definition of an audit event's canonical bytes: compact UTF-8 JSON, keys in ordinal order at
/// every level, times as UTC ISO-8601 with 7 fractional digits, absent values as null. The chain hashes
/// exactly these bytes, and exports carry them, so a verifier never re-serialises anything.
/// </summary>
public static class CanonicalAuditEvent
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    public static byte[] ToBytes(AuditEvent auditEvent)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            writer.WriteString("action", auditEvent.Action);
            writer.WriteStartObject("actor");
            writer.WriteString("clientAddress", auditEvent.Actor.ClientAddress);
            writer.WriteStartArray("roles");
            foreach (var role in auditEvent.Actor.Roles.Order(StringComparer.Ordinal))
            {
                writer.WriteStringValue(role);
            }

            writer.WriteEndArray();
            writer.WriteString("userAgent", auditEvent.Actor.UserAgent);
            writer.WriteString("userId", auditEvent.Actor.UserId);
            writer.WriteEndObject();
            writer.WriteStartObject("details");
            foreach (var (key, value) in auditEvent.Details.OrderBy(d => d.Key, StringComparer.Ordinal))
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
            writer.WriteString("eventId", auditEvent.EventId.ToString("D"));
            writer.WriteString("occurredAt", auditEvent.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
            writer.WriteStartObject("outcome");
            writer.WriteString("reason", auditEvent.Outcome.Reason);
            writer.WriteString("result", auditEvent.Outcome.Result);
            writer.WriteEndObject();
            writer.WriteString("service", auditEvent.Service);
            writer.WriteStartObject("target");
            writer.WriteString("id", auditEvent.Target.Id);
            writer.WriteString("type", auditEvent.Target.Type);
            writer.WriteEndObject();
            writer.WriteString("tenantId", auditEvent.TenantId);
            writer.WriteString("traceId", auditEvent.TraceId);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>Reads canonical bytes back; only bytes that re-serialise to themselves are accepted, so a leaf has one meaning.</summary>
public static class CanonicalAuditEventReader
{
    public static bool TryParse(ReadOnlySpan<byte> canonical, out AuditEvent auditEvent)
    {
        auditEvent = null!;
        try
        {
            var reader = new Utf8JsonReader(canonical);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            var actor = root.GetProperty("actor");
            var outcome = root.GetProperty("outcome");
            var target = root.GetProperty("target");
            auditEvent = new AuditEvent
            {
                EventId = Guid.ParseExact(root.GetProperty("eventId").GetString()!, "D"),
                TenantId = root.GetProperty("tenantId").GetString()!,
                OccurredAt = DateTimeOffset.Parse(root.GetProperty("occurredAt").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                Actor = new AuditActor(actor.GetProperty("userId").GetString()!, actor.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToList(),
                    actor.GetProperty("clientAddress").GetString(), actor.GetProperty("userAgent").GetString()),
                Action = root.GetProperty("action").GetString()!,
                Target = new AuditTarget(target.GetProperty("type").GetString()!, target.GetProperty("id").GetString()!),
                Outcome = new AuditOutcome(outcome.GetProperty("result").GetString()!, outcome.GetProperty("reason").GetString()),
                Details = root.GetProperty("details").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal),
                TraceId = root.GetProperty("traceId").GetString(),
                Service = root.GetProperty("service").GetString()!,
            };
            return CanonicalAuditEvent.ToBytes(auditEvent).AsSpan().SequenceEqual(canonical);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentNullException)
        {
            return false;
        }
    }
}
