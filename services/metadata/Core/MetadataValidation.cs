using Keyward.Common.Limits;
using System.Buffers.Text;
using System.Text.Json;

namespace Keyward.Metadata.Core;

/// <summary><c>Keyward:Metadata:Limits</c>: how large a folder's metadata may grow.</summary>
public sealed class MetadataLimits
{
    public const string Section = "Keyward:Metadata:Limits";

    /// <summary>The whole document (UTF-16 characters as stored), filedrop merges included.</summary>
    public int MaxBytes { get; set; } = MetadataDocument.MaxLength;

    public int MaxUsers { get; set; } = 10_000;

    public int MaxFiledropEntries { get; set; } = 10_000;

    /// <summary>
    /// Documents one user may have validated and signature-checked (metadata writes and filedrop merges), this
    /// process's own budget next to the gateway's: a real client never meets it.
    /// </summary>
    public RateBudget WritesPerUser { get; set; } = new(600, 3_000);

    /// <summary>The key of the <see cref="CallerBudget"/> that <see cref="WritesPerUser"/> makes.</summary>
    public const string WriteBudget = "metadata-writes";
}

/// <summary>
/// What the server can check of a v2 document before it stores it (reference §e.2): it parses, names version "2.0"
/// or "2.1", has the members Nextcloud's clients need with the right types, strict base64 where the format puts base64,
/// and stays within the limits. The encrypted part (file names, keys, <c>keyChecksums</c>, the counter) is opaque to
/// the server and is the clients' to check. Version 1 documents keep the reference's behaviour (no checks).
/// A corrupt document stored once breaks every device of every member (nextcloud/desktop #5564, #9481, ios #4182):
/// it is refused here with a reason the client can show.
/// </summary>
public static class MetadataValidation
{
    /// <summary>Null when the document may be stored; otherwise why not.</summary>
    public static string? Problem(string metadata, bool isRoot, MetadataLimits limits)
    {
        if (metadata.Length > limits.MaxBytes)
        {
            return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the metadata is larger than {limits.MaxBytes:N0} bytes");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(metadata);
        }
        catch (JsonException)
        {
            return "the metadata is not valid JSON";
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return "the metadata is not a JSON object";
            }

            if (!root.TryGetProperty("version", out var version) && root.TryGetProperty("metadata", out var legacy) && legacy.ValueKind == JsonValueKind.Object
                && legacy.TryGetProperty("version", out _))
            {
                return null; // 1.x: its version sits inside "metadata"; stored as the reference stores it
            }

            if (version.ValueKind == JsonValueKind.Number && MetadataDocument.IsVersion1(version.GetRawText())
                || version.ValueKind == JsonValueKind.String && MetadataDocument.IsVersion1(version.GetString()!))
            {
                return null;
            }

            if (version.ValueKind != JsonValueKind.String || version.GetString() is not ("2.0" or "2.1"))
            {
                return "version must be the string \"2.0\" or \"2.1\"";
            }

            return EncryptedPart(root) ?? Users(root, isRoot, limits) ?? Filedrop(root, isRoot, limits);
        }
    }

    /// <summary>Filedrop entries a client adds (merged into the document's <c>filedrop</c>): each must be well-formed.</summary>
    public static string? FiledropProblem(JsonElement entries, int existing, MetadataLimits limits)
    {
        if (entries.ValueKind != JsonValueKind.Object)
        {
            return "filedrop must be a JSON object of entries";
        }

        var count = 0;
        foreach (var entry in entries.EnumerateObject())
        {
            count++;
            if (FiledropEntry(entry.Name, entry.Value) is { } problem)
            {
                return problem;
            }
        }

        return existing + count > limits.MaxFiledropEntries ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"a folder holds at most {limits.MaxFiledropEntries:N0} filedrop entries") : null;
    }

    /// <summary>Strict base64: no whitespace, padded, nothing else.</summary>
    public static bool IsBase64(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length % 4 == 0 && Base64.IsValid(value.AsSpan(), out _) && !value.Any(char.IsWhiteSpace);

    private static string? EncryptedPart(JsonElement root)
    {
        if (!root.TryGetProperty("metadata", out var part) || part.ValueKind != JsonValueKind.Object)
        {
            return "\"metadata\" must be an object with ciphertext, nonce and authenticationTag";
        }

        // Desktop writes base64(ciphertext‖tag) + "|" + base64(nonce); the web client plain base64 (§e.2).
        var pieces = String(part, "ciphertext")?.Split('|');
        if (pieces is null || pieces.Length is not (1 or 2) || !pieces.All(IsBase64))
        {
            return "metadata.ciphertext must be base64 (or base64|base64)";
        }

        return Base64Member(part, "nonce", "metadata.nonce") ?? Base64Member(part, "authenticationTag", "metadata.authenticationTag");
    }

    private static string? Users(JsonElement root, bool isRoot, MetadataLimits limits)
    {
        var present = root.TryGetProperty("users", out var users);
        if (!isRoot)
        {
            return present ? "a sub-folder's metadata has no users (it is encrypted with its root folder's key)" : null;
        }

        if (!present || users.ValueKind != JsonValueKind.Array || users.GetArrayLength() == 0)
        {
            return "a root folder's metadata must list its users";
        }

        if (users.GetArrayLength() > limits.MaxUsers)
        {
            return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"a folder has at most {limits.MaxUsers:N0} users");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var user in users.EnumerateArray())
        {
            if (user.ValueKind != JsonValueKind.Object || String(user, "userId") is not { Length: > 0 } id)
            {
                return "every entry of users must have a userId";
            }

            if (!seen.Add(id))
            {
                return $"user '{Shown(id)}' is listed twice";
            }

            if (String(user, "certificate") is not { } certificate || !certificate.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                return $"user '{Shown(id)}' has no PEM certificate";
            }

            if (Base64Member(user, "encryptedMetadataKey", $"encryptedMetadataKey of user '{Shown(id)}'") is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? Filedrop(JsonElement root, bool isRoot, MetadataLimits limits)
    {
        if (!root.TryGetProperty("filedrop", out var filedrop))
        {
            return null;
        }

        if (!isRoot)
        {
            return "only a root folder's metadata has a filedrop";
        }

        return FiledropProblem(filedrop, 0, limits);
    }

    private static string? FiledropEntry(string name, JsonElement entry)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            return $"filedrop entry '{Shown(name)}' must be an object";
        }

        var problem = Base64Member(entry, "ciphertext", $"ciphertext of filedrop entry '{Shown(name)}'")
            ?? Base64Member(entry, "nonce", $"nonce of filedrop entry '{Shown(name)}'")
            ?? Base64Member(entry, "authenticationTag", $"authenticationTag of filedrop entry '{Shown(name)}'");
        if (problem is not null)
        {
            return problem;
        }

        if (!entry.TryGetProperty("users", out var users) || users.ValueKind != JsonValueKind.Array || users.GetArrayLength() == 0)
        {
            return $"filedrop entry '{Shown(name)}' must list the users its key is encrypted for";
        }

        foreach (var user in users.EnumerateArray())
        {
            if (user.ValueKind != JsonValueKind.Object || String(user, "userId") is not { Length: > 0 }
                || Base64Member(user, "encryptedFiledropKey", "") is not null)
            {
                return $"every user of filedrop entry '{Shown(name)}' needs a userId and a base64 encryptedFiledropKey";
            }
        }

        return null;
    }

    private static string? Base64Member(JsonElement parent, string name, string what) =>
        IsBase64(String(parent, name)) ? null : $"{what} must be base64";

    private static string? String(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // Names from the document are echoed to the client in a bounded, printable form.
    private static string Shown(string value)
    {
        var clean = new string(value.Where(c => !char.IsControl(c)).Take(64).ToArray());
        return clean.Length == value.Length ? clean : clean + "…";
    }
}
