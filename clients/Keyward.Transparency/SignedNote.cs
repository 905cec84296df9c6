using System.Buffers.Binary;
using System.Text;

namespace Keyward.Transparency;

/// <summary>One signature line of a C2SP signed note: <c>— name base64(key id ‖ signature)</c>.</summary>
public sealed record NoteSignature(string Name, uint KeyId, byte[] Signature)
{
    public string ToLine()
    {
        var bytes = new byte[4 + Signature.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, KeyId);
        Signature.CopyTo(bytes, 4);
        return $"\u2014 {Name} {Convert.ToBase64String(bytes)}\n";
    }
}

/// <summary>
/// A C2SP signed note: a UTF-8 text ending in a newline, a blank line, then one or more signature lines. Parsing
/// keeps every line it understands and refuses anything malformed; which signatures count is the verifier's call.
/// </summary>
public sealed record SignedNote(string Body, IReadOnlyList<NoteSignature> Signatures)
{
    public const int MaxLength = 64 * 1024;
    public const int MaxSignatures = 100;

    public override string ToString() => Body + "\n" + string.Concat(Signatures.Select(s => s.ToLine()));

    public SignedNote With(NoteSignature signature) => this with { Signatures = [.. Signatures, signature] };

    public static bool TryParse(string text, out SignedNote note)
    {
        note = null!;
        var split = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (text.Length > MaxLength || split < 0 || !text.EndsWith('\n'))
        {
            return false;
        }

        var body = text[..(split + 1)];
        var lines = text[(split + 2)..^1].Split('\n');
        if (lines.Length > MaxSignatures)
        {
            return false;
        }

        var signatures = new List<NoteSignature>();
        foreach (var line in lines)
        {
            var parts = line.Split(' ');
            if (parts.Length != 3 || parts[0] != "\u2014" || !TreeHead.IsOrigin(parts[1]))
            {
                return false;
            }

            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(parts[2]);
            }
            catch (FormatException)
            {
                return false;
            }

            if (bytes.Length < 5)
            {
                return false;
            }

            signatures.Add(new NoteSignature(parts[1], BinaryPrimitives.ReadUInt32BigEndian(bytes), bytes[4..]));
        }

        note = new SignedNote(body, signatures);
        return signatures.Count > 0;
    }

    public static byte[] BodyBytes(string body) => Encoding.UTF8.GetBytes(body);
}
