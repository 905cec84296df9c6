using System.Globalization;
using System.Text;

namespace Keyward.Transparency;

/// <summary>
/// A C2SP tlog-checkpoint body: the origin line, the tree size in decimal, the base64 root hash, then optional
/// extension lines, each ending in a newline. Parsing is strict: what parses formats back to the same bytes.
/// </summary>
public sealed record TreeHead(string Origin, long Size, byte[] RootHash, IReadOnlyList<string> Extensions)
{
    public const int MaxLength = 4096;

    public TreeHead(string origin, long size, byte[] rootHash) : this(origin, size, rootHash, []) { }

    public string ToBody()
    {
        var body = new StringBuilder()
            .Append(Origin).Append('\n')
            .Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(Convert.ToBase64String(RootHash)).Append('\n');
        foreach (var extension in Extensions)
        {
            body.Append(extension).Append('\n');
        }

        return body.ToString();
    }

    public static bool TryParse(string body, out TreeHead treeHead)
    {
        treeHead = null!;
        if (body.Length is 0 or > MaxLength || !body.EndsWith('\n'))
        {
            return false;
        }

        var lines = body[..^1].Split('\n');
        if (lines.Length < 3 || lines.Any(l => l.Length == 0) || !IsOrigin(lines[0])
            || !long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            || size.ToString(CultureInfo.InvariantCulture) != lines[1])
        {
            return false;
        }

        var root = new byte[MerkleHash.Size];
        if (!Convert.TryFromBase64String(lines[2], root, out var written) || written != MerkleHash.Size || Convert.ToBase64String(root) != lines[2])
        {
            return false;
        }

        treeHead = new TreeHead(lines[0], size, root, lines[3..]);
        return true;
    }

    /// <summary>A schema-less URL-like name: printable ASCII, no spaces, no '+' (the signed-note name rules).</summary>
    public static bool IsOrigin(string origin) => origin.Length is > 0 and <= 255 && origin.All(c => c is > ' ' and < (char)0x7f and not '+');
}
