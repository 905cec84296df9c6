using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Keyward.Transparency;

namespace Keyward.AuditTrail;

/// <summary>
/// The export format: NDJSON, a header line, then the leaves in order (each the canonical event text), and each
/// signed checkpoint on the line after the last leaf it covers. The header carries the tree's edge before the
/// first leaf, so a range can be checked without the leaves before it: any lie in the edge shows as a root that
/// no signature covers.
/// </summary>
public static class AuditExport
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public sealed record HeaderLine(string Type, string Origin, long From, long To, string Edge, string LogKey, string LogKeyFingerprint);

    public sealed record LeafLine(string Type, long Index, string Event);

    public sealed record CheckpointLine(string Type, long Size, string Note);

    public static string Header(string origin, long from, long to, byte[] edge, string logKeyPem, string logKeyFingerprint) =>
        JsonSerializer.Serialize(new HeaderLine("header", origin, from, to, Convert.ToBase64String(edge), logKeyPem, logKeyFingerprint), Json);

    public static string Leaf(long index, byte[] canonical) => JsonSerializer.Serialize(new LeafLine("leaf", index, Encoding.UTF8.GetString(canonical)), Json);

    public static string CheckpointRecord(long size, string note) => JsonSerializer.Serialize(new CheckpointLine("checkpoint", size, note), Json);

    /// <summary>
    /// Verifies an export against a log key the verifier pins: <paramref name="pinnedKeyPem"/>, or the key in the
    /// export only when its SHA-256 fingerprint is <paramref name="pinnedFingerprint"/>. Never the export's own key alone.
    /// </summary>
    public static ExportVerification Verify(TextReader reader, string? pinnedKeyPem, string? pinnedFingerprint)
    {
        if (pinnedKeyPem is null && string.IsNullOrWhiteSpace(pinnedFingerprint))
        {
            return ExportVerification.Broken(0, "no log key is pinned: pass the tenant's log key or its fingerprint (an export cannot vouch for itself)");
        }

        HeaderLine? header;
        try
        {
            header = reader.ReadLine() is { } first ? JsonSerializer.Deserialize<HeaderLine>(first, Json) : null;
        }
        catch (JsonException)
        {
            header = null;
        }

        if (header is null || header.Type != "header" || header.Origin is not { } origin || !TreeHead.IsOrigin(origin))
        {
            return ExportVerification.Broken(0, "the file does not start with an export header");
        }

        EcdsaNoteVerifier key;
        try
        {
            key = EcdsaNoteVerifier.FromPem(origin, pinnedKeyPem ?? header.LogKey ?? "");
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return ExportVerification.Broken(0, "the log key is not an EC public key");
        }

        if (pinnedKeyPem is null && !string.Equals(key.Fingerprint, pinnedFingerprint!.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return ExportVerification.Broken(0, $"the export's log key {key.Fingerprint} is not the pinned key {pinnedFingerprint}");
        }

        CompactRange tree;
        try
        {
            tree = CompactRange.FromBytes(header.From, Convert.FromBase64String(header.Edge));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return ExportVerification.Broken(header.From, "the header's tree edge does not fit its first index");
        }

        var policy = new CheckpointPolicy(header.Origin, key);
        var lineNumber = 1;
        long checkpoints = 0, lastSigned = -1;
        byte[] lineBytes = [], eventBytes = [];
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                switch (LeafRecord.Read(line, ref lineBytes, ref eventBytes))
                {
                    case (LeafRecord.Kind.Leaf, var index, var length):
                        if (index != tree.Size)
                        {
                            return ExportVerification.Broken(tree.Size, $"leaf {tree.Size} is missing (found {index})");
                        }

                        tree.Append(MerkleHash.Leaf(eventBytes.AsSpan(0, length)));
                        continue;
                    case (LeafRecord.Kind.Invalid, _, _):
                        return ExportVerification.Broken(tree.Size, $"line {lineNumber} is not a valid export record");
                }

                using var document = JsonDocument.Parse(line);
                if (document.RootElement.GetProperty("type").GetString() == "checkpoint")
                {
                    var record = document.RootElement.Deserialize<CheckpointLine>(Json)!;
                    var result = policy.Verify(record.Note);
                    if (!result.IsValid)
                    {
                        return ExportVerification.Broken(record.Size, result.Problem!);
                    }

                    if (result.Head!.Size != tree.Size)
                    {
                        return ExportVerification.Broken(tree.Size, $"a checkpoint of size {result.Head.Size} stands after leaf {tree.Size - 1}");
                    }

                    if (!result.Head.RootHash.AsSpan().SequenceEqual(tree.Root()))
                    {
                        return ExportVerification.Broken(tree.Size - 1, $"the leaves up to {tree.Size - 1} do not hash to the root the log signed for size {tree.Size}");
                    }

                    checkpoints++;
                    lastSigned = tree.Size;
                }
            }
            catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or ArgumentNullException)
            {
                return ExportVerification.Broken(tree.Size, $"line {lineNumber} is not a valid export record");
            }
        }

        if (tree.Size != header.To)
        {
            return ExportVerification.Broken(tree.Size, $"the export ends before leaf {tree.Size}, its header promises leaves up to {header.To - 1}");
        }

        return ExportVerification.Valid(header.Origin, key.Fingerprint, header.From, header.To, checkpoints, lastSigned);
    }
}

/// <summary>
/// A leaf line read with <see cref="Utf8JsonReader"/> straight into reused buffers: leaves are nearly all of an export,
/// and a DOM plus a string copy of every event took four fifths of the verifier's time. The event's bytes (unescaped)
/// are what the log hashed.
/// </summary>
internal static class LeafRecord
{
    public enum Kind { Leaf, Other, Invalid }

    public static (Kind Kind, long Index, int EventLength) Read(string line, ref byte[] lineBytes, ref byte[] eventBytes)
    {
        var count = Encoding.UTF8.GetByteCount(line);
        if (lineBytes.Length < count)
        {
            lineBytes = new byte[Math.Max(count, lineBytes.Length * 2)];
            eventBytes = new byte[lineBytes.Length];
        }

        var bytes = lineBytes.AsSpan(0, Encoding.UTF8.GetBytes(line, lineBytes));
        var reader = new Utf8JsonReader(bytes);
        bool? isLeaf = null;
        long? index = null;
        var length = -1;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return (Kind.Invalid, 0, 0);
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return (Kind.Invalid, 0, 0);
                }

                isLeaf = reader.ValueTextEquals("leaf"u8);
                if (isLeaf == false)
                {
                    return (Kind.Other, 0, 0);
                }
            }
            else if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value))
                {
                    return (Kind.Invalid, 0, 0);
                }

                index = value;
            }
            else if (reader.ValueTextEquals("event"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return (Kind.Invalid, 0, 0);
                }

                length = reader.CopyString(eventBytes);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return reader.TokenType == JsonTokenType.EndObject && !reader.Read() && isLeaf == true && index is { } found && length >= 0
            ? (Kind.Leaf, found, length)
            : (Kind.Invalid, 0, 0);
    }
}

public sealed record ExportVerification(bool IsValid, string Summary)
{
    public static ExportVerification Valid(string origin, string fingerprint, long from, long to, long checkpoints, long lastSigned) =>
        new(true, $"VALID: log {origin} (key {fingerprint[..16]}…), leaves {from}..{to - 1}, {checkpoints} signed checkpoint(s)"
            + (checkpoints == 0 ? " (no leaf is covered by a signature)" : lastSigned < to ? $", leaves from {lastSigned} on are not yet signed" : ""));

    public static ExportVerification Broken(long index, string reason) => new(false, $"BROKEN at leaf {index}: {reason}");
}
