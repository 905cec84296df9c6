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
    /// <summary>The same check over text already read (tests, small exports).</summary>
    public static ExportVerification Verify(TextReader reader, string? pinnedKeyPem, string? pinnedFingerprint)
    {
        using var bytes = new MemoryStream(Encoding.UTF8.GetBytes(reader.ReadToEnd()));
        return Verify(bytes, pinnedKeyPem, pinnedFingerprint);
    }

    /// <summary>
    /// Verifies an export read from <paramref name="stream"/> as bytes, chunk by chunk (an export can be larger than memory),
    /// against a log key the verifier pins.
    /// </summary>
    public static ExportVerification Verify(Stream stream, string? pinnedKeyPem, string? pinnedFingerprint)
    {
        var lines = new ExportLines(stream);
        if (pinnedKeyPem is null && string.IsNullOrWhiteSpace(pinnedFingerprint))
        {
            return ExportVerification.Broken(0, "no log key is pinned: pass the tenant's log key or its fingerprint (an export cannot vouch for itself)");
        }

        HeaderLine? header;
        try
        {
            header = lines.First() is { } first ? JsonSerializer.Deserialize<HeaderLine>(first, Json) : null;
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
        // Lines come in chunks; the leaf lines of a chunk are parsed and hashed on every core, then folded into the
        // tree in order (the fold and the checkpoints are sequential by nature).
        var leaves = new List<LeafRecord.Parsed>();
        while (lines.NextChunk() is { Count: > 0 } chunk)
        {
            LeafRecord.ParseAll(chunk, leaves);
            for (var i = 0; i < chunk.Count; i++)
            {
                lineNumber++;
                var line = chunk[i];
                if (line.Length == 0)
                {
                    continue;
                }

                switch (leaves[i].Kind)
                {
                    case LeafRecord.Kind.Leaf:
                        if (leaves[i].Index != tree.Size)
                        {
                            return ExportVerification.Broken(tree.Size, $"leaf {tree.Size} is missing (found {leaves[i].Index})");
                        }

                        tree.Append(leaves[i].Hash!);
                        continue;
                    case LeafRecord.Kind.Invalid:
                        return ExportVerification.Broken(tree.Size, $"line {lineNumber} is not a valid export record");
                }

                try
                {
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

    /// <summary>A line as parsed: its kind, and for a leaf its index and leaf hash.</summary>
    public readonly record struct Parsed(Kind Kind, long Index, byte[]? Hash);

    /// <summary>Parses and hashes a chunk's lines in parallel, each worker with its own buffer.</summary>
    public static void ParseAll(IReadOnlyList<ReadOnlyMemory<byte>> lines, List<Parsed> into)
    {
        var results = new Parsed[lines.Count];
        Parallel.For(0, lines.Count, () => new byte[1024], (i, _, buffer) =>
        {
            try
            {
                var (kind, index, length) = Read(lines[i].Span, ref buffer);
                results[i] = new Parsed(kind, index, kind == Kind.Leaf ? MerkleHash.Leaf(buffer.AsSpan(0, length)) : null);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
            {
                results[i] = new Parsed(Kind.Invalid, 0, null);
            }

            return buffer;
        }, _ => { });
        into.Clear();
        into.AddRange(results);
    }

    /// <summary>One line's record; a leaf's event bytes (unescaped) are left in <paramref name="eventBytes"/>, grown as needed.</summary>
    public static (Kind Kind, long Index, int EventLength) Read(ReadOnlySpan<byte> bytes, ref byte[] eventBytes)
    {
        if (eventBytes.Length < bytes.Length)
        {
            eventBytes = new byte[Math.Max(bytes.Length, eventBytes.Length * 2)];
        }

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

/// <summary>
/// An export's lines straight from its bytes, a chunk of complete lines at a time (no string per leaf line). Written by
/// hand because the BCL's line readers decode to strings, which cost the verifier more than the hashing.
/// </summary>
internal sealed class ExportLines(Stream stream)
{
    private byte[] _buffer = new byte[AuditExportChunk.Bytes];
    private int _filled;
    private int _start;
    private bool _ended;
    private readonly List<ReadOnlyMemory<byte>> _lines = [];

    /// <summary>The first line as text (the header), or null on an empty stream.</summary>
    public string? First()
    {
        var chunk = NextChunk(maxLines: 1);
        return chunk.Count == 0 ? null : Encoding.UTF8.GetString(chunk[0].Span);
    }

    /// <summary>The next complete lines (without their line breaks); empty at the end.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> NextChunk(int maxLines = int.MaxValue)
    {
        _lines.Clear();
        while (true)
        {
            var span = _buffer.AsSpan(_start, _filled - _start);
            var newline = span.IndexOf((byte)'\n');
            while (newline >= 0 && _lines.Count < maxLines)
            {
                _lines.Add(_buffer.AsMemory(_start, newline > 0 && span[newline - 1] == '\r' ? newline - 1 : newline));
                _start += newline + 1;
                span = _buffer.AsSpan(_start, _filled - _start);
                newline = span.IndexOf((byte)'\n');
            }

            if (_lines.Count > 0)
            {
                return _lines;
            }

            if (_ended)
            {
                if (_start < _filled)
                {
                    _lines.Add(_buffer.AsMemory(_start, _filled - _start));
                    _start = _filled;
                }

                return _lines;
            }

            // No complete line left: keep the partial one, make room (growing for a line longer than the buffer), read on.
            var partial = _filled - _start;
            if (partial == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            else if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, partial);
            }

            _start = 0;
            _filled = partial;
            var read = stream.Read(_buffer, _filled, _buffer.Length - _filled);
            _ended = read == 0;
            _filled += read;
        }
    }
}

internal static class AuditExportChunk
{
    public const int Bytes = 4 * 1024 * 1024;
}

public sealed record ExportVerification(bool IsValid, string Summary)
{
    public static ExportVerification Valid(string origin, string fingerprint, long from, long to, long checkpoints, long lastSigned) =>
        new(true, $"VALID: log {origin} (key {fingerprint[..16]}…), leaves {from}..{to - 1}, {checkpoints} signed checkpoint(s)"
            + (checkpoints == 0 ? " (no leaf is covered by a signature)" : lastSigned < to ? $", leaves from {lastSigned} on are not yet signed" : ""));

    public static ExportVerification Broken(long index, string reason) => new(false, $"BROKEN at leaf {index}: {reason}");
}
