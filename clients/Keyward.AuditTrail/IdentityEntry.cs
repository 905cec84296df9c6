using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Keyward.AuditTrail;

/// <summary>
/// One leaf of a tenant's key-transparency log: something happened to a user's identity (or, with an empty user,
/// to the tenant's recovery key). Hashes only — the certificate's SHA-256, the private-key blob's SHA-256, the
/// recovery key's fingerprint, the device request's id — never the key material itself. Canonical like audit
/// events: compact UTF-8 JSON, keys in ordinal order, so the leaf has one byte form.
/// </summary>
public sealed record IdentityEntry(string Action, string Actor, Guid EventId, DateTimeOffset OccurredAt, string Subject, string TenantId, string User)
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <summary>The audit actions that are identity events, and where each one's subject and user come from.</summary>
    public static IdentityEntry? From(AuditEvent e)
    {
        if (e.Outcome.Result != "success")
        {
            return null;
        }

        string Detail(string key) => e.Details.TryGetValue(key, out var value) ? value : "";
        var (user, subject) = e.Action switch
        {
            "keys.certificate.issued" or "keys.certificate.stored" or "keys.certificate.reissued" => (e.Target.Id, Detail("fingerprint_sha256")),
            "keys.certificate.deleted" or "keys.private_key.deleted" => (e.Target.Id, ""),
            "keys.private_key.stored" => (e.Target.Id, Detail("sha256")),
            "keys.recovery.enabled" or "keys.recovery.rotated" or "keys.recovery.disabled" => ("", Detail("fingerprint")),
            "keys.escrow.stored" or "keys.escrow.fetched" => (e.Target.Id, ""),
            "keys.device.approved" or "keys.device.enrolled" or "keys.device.revoked" => (e.Actor.UserId, e.Target.Id),
            _ => ((string?)null, ""),
        };
        return user is null ? null : new IdentityEntry(e.Action, e.Actor.UserId, e.EventId, e.OccurredAt, subject, e.TenantId, user);
    }

    public byte[] ToBytes()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            writer.WriteString("action", Action);
            writer.WriteString("actor", Actor);
            writer.WriteString("eventId", EventId.ToString("D"));
            writer.WriteString("occurredAt", OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
            writer.WriteString("subject", Subject);
            writer.WriteString("tenantId", TenantId);
            writer.WriteString("user", User);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static bool TryParse(ReadOnlySpan<byte> bytes, out IdentityEntry entry)
    {
        entry = null!;
        try
        {
            var reader = new Utf8JsonReader(bytes);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            string Text(string name) => root.GetProperty(name).GetString() ?? throw new FormatException(name);
            entry = new IdentityEntry(Text("action"), Text("actor"), Guid.ParseExact(Text("eventId"), "D"),
                DateTimeOffset.Parse(Text("occurredAt"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal), Text("subject"), Text("tenantId"), Text("user"));
            return entry.ToBytes().AsSpan().SequenceEqual(bytes);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }
}
