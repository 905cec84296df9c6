using System.Buffers.Text;

namespace Keyward.Metadata.Core;

/// <summary>
/// The detached CMS signature a v2 client sends in X-NC-E2EE-SIGNATURE. It is echoed as a response header on
/// every read, so anything but strict base64 (no whitespace, no control characters) is refused on the way in:
/// a CR/LF stored once would make every later read of the folder fail.
/// </summary>
public static class MetadataSignature
{
    public const int MaxLength = 64 * 1024;

    public static bool IsWellFormed(string signature) =>
        signature.Length is > 0 and <= MaxLength && signature.Length % 4 == 0 && Base64.IsValid(signature.AsSpan(), out _) && !signature.Any(char.IsWhiteSpace);
}
