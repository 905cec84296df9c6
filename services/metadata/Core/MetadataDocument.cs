using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keyward.Metadata.Core;

/// <summary>
/// The little the server may read of a metadata document (reference §e): its version (top-level for 2.x,
/// <c>metadata.version</c> for 1.x, number or string) and the user ids of a v2 root. The rest stays opaque.
/// </summary>
public static class MetadataDocument
{
    public const int MaxLength = 16 * 1024 * 1024;

    public static InspectedMetadata Inspect(string metadata)
    {
        using var document = JsonDocument.Parse(metadata);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("metadata must be a JSON object");
        }

        var version = VersionOf(root);
        var users = new List<string>();
        if (root.TryGetProperty("users", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var user in list.EnumerateArray())
            {
                if (user.ValueKind == JsonValueKind.Object && user.TryGetProperty("userId", out var id) && id.ValueKind == JsonValueKind.String)
                {
                    users.Add(id.GetString()!);
                }
            }
        }

        return new InspectedMetadata(version, users);
    }

    /// <summary>Whether the text is a JSON object of acceptable size the server can route by version.</summary>
    public static bool TryInspect(string? metadata, out InspectedMetadata inspected)
    {
        inspected = new InspectedMetadata("", []);
        if (string.IsNullOrEmpty(metadata) || metadata.Length > MaxLength)
        {
            return false;
        }

        try
        {
            inspected = Inspect(metadata);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Metadata 1.x (1, 1.2 or "1.2"): what API 1 clients can handle (reference §a.6).</summary>
    public static bool IsVersion1(string version) => version is "1" or "1.0" or "1.1" or "1.2";

    /// <summary>
    /// Merges filedrop entries into the top-level <c>filedrop</c> object (same key → replaced), as the
    /// reference does with array_merge (§a.4). The document is re-serialised; signatures survive because
    /// <c>filedrop</c> is not part of what clients sign (§e).
    /// </summary>
    public static string MergeFiledrop(string metadata, JsonObject entries)
    {
        var root = JsonNode.Parse(metadata)!.AsObject();
        if (root["filedrop"] is not JsonObject filedrop)
        {
            root["filedrop"] = filedrop = new JsonObject();
        }

        foreach (var (key, value) in entries)
        {
            filedrop[key] = value?.DeepClone();
        }

        return root.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private static string VersionOf(JsonElement root)
    {
        if (root.TryGetProperty("version", out var topLevel))
        {
            return Text(topLevel);
        }

        if (root.TryGetProperty("metadata", out var inner) && inner.ValueKind == JsonValueKind.Object && inner.TryGetProperty("version", out var nested))
        {
            return Text(nested);
        }

        return "";
    }

    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        _ => "",
    };
}

public sealed record InspectedMetadata(string Version, IReadOnlyList<string> UserIds);
