using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Keyward.AuditTrail;

/// <summary>
/// The export format: NDJSON, a header line, then every entry in order, each checkpoint on the line right
/// after the entry it signs. Entries carry their canonical event text, so nothing is re-serialised.
/// </summary>
public static class AuditExport
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public sealed record HeaderLine(string Type, string TenantId, long From, long To, string PreviousHash, string CheckpointKey, string CheckpointKeyId);

    public sealed record EntryLine(string Type, long Sequence, string EventId, string Event, string PreviousHash, string Hash);

    public sealed record CheckpointLine(string Type, long Sequence, string Hash, string SignedAt, string Checkpoint, string Signature, string KeyId);

    public static string Header(string tenantId, long from, long to, byte[] previousHash, string checkpointKeyPem, string keyId) =>
        JsonSerializer.Serialize(new HeaderLine("header", tenantId, from, to, Convert.ToHexStringLower(previousHash), checkpointKeyPem, keyId), Json);

    public static string Entry(long sequence, Guid eventId, byte[] canonical, byte[] previousHash, byte[] hash) =>
        JsonSerializer.Serialize(new EntryLine("entry", sequence, eventId.ToString("D"), Encoding.UTF8.GetString(canonical), Convert.ToHexStringLower(previousHash), Convert.ToHexStringLower(hash)), Json);

    public static string CheckpointRecord(long sequence, byte[] hash, DateTimeOffset signedAt, byte[] checkpoint, byte[] signature, string keyId) =>
        JsonSerializer.Serialize(new CheckpointLine("checkpoint", sequence, Convert.ToHexStringLower(hash), signedAt.ToString("O"), Convert.ToBase64String(checkpoint), Convert.ToBase64String(signature), keyId), Json);

    /// <summary>Verifies an export with nothing but its own content and the checkpoint public key it names.</summary>
    public static ExportVerification Verify(TextReader reader, string? trustedCheckpointKeyPem = null)
    {
        var first = reader.ReadLine();
        HeaderLine? header;
        try
        {
            header = first is null ? null : JsonSerializer.Deserialize<HeaderLine>(first, Json);
        }
        catch (JsonException)
        {
            header = null;
        }

        if (header is null || header.Type != "header")
        {
            return ExportVerification.Broken(0, "the file does not start with an export header");
        }

        var key = trustedCheckpointKeyPem ?? header.CheckpointKey;
        using var verifier = new ChainVerifier(header.TenantId, header.From, Convert.FromHexString(header.PreviousHash), key);
        var hashes = new Dictionary<long, byte[]>();
        var lineNumber = 1;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(line);
                var type = document.RootElement.GetProperty("type").GetString();
                if (type == "entry")
                {
                    var entry = document.RootElement.Deserialize<EntryLine>(Json)!;
                    var hash = Convert.FromHexString(entry.Hash);
                    if (!verifier.Entry(entry.Sequence, Encoding.UTF8.GetBytes(entry.Event), Convert.FromHexString(entry.PreviousHash), hash))
                    {
                        break;
                    }

                    hashes[entry.Sequence] = hash;
                }
                else if (type == "checkpoint")
                {
                    var checkpoint = document.RootElement.Deserialize<CheckpointLine>(Json)!;
                    if (!hashes.TryGetValue(checkpoint.Sequence, out var hashAt))
                    {
                        return ExportVerification.Broken(checkpoint.Sequence, "a checkpoint names an entry that is not in the export");
                    }

                    if (!verifier.CheckpointAt(checkpoint.Sequence, hashAt, Convert.FromBase64String(checkpoint.Checkpoint), Convert.FromBase64String(checkpoint.Signature)))
                    {
                        break;
                    }
                }
            }
            catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                return ExportVerification.Broken(0, $"line {lineNumber} is not a valid export record");
            }
        }

        if (verifier.Break is { } broken)
        {
            return ExportVerification.Broken(broken.Sequence, broken.Reason);
        }

        var last = header.From + verifier.Entries - 1;
        if (verifier.Entries > 0 && last != header.To)
        {
            return ExportVerification.Broken(last + 1, $"the export ends at entry {last}, its header promises {header.To}");
        }

        return ExportVerification.Valid(header.TenantId, header.From, last, verifier.Checkpoints, verifier.LastCheckpointSequence);
    }
}

public sealed record ExportVerification(bool IsValid, string Summary)
{
    public static ExportVerification Valid(string tenant, long from, long to, long checkpoints, long lastCheckpoint) =>
        new(true, $"VALID: tenant {tenant}, entries {from}..{to}, {checkpoints} signed checkpoint(s)"
            + (checkpoints == 0 ? " (no entry is covered by a signature)" : lastCheckpoint < to ? $", entries after {lastCheckpoint} are chained but not yet signed" : ""));

    public static ExportVerification Broken(long sequence, string reason) => new(false, $"BROKEN at entry {sequence}: {reason}");
}
