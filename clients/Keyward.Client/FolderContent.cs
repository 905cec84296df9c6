using System.Text.Json;
using System.Text.Json.Serialization;

namespace Keyward.Client;

/// <summary>The encrypted inner part of v2 metadata (reference §e.2): what only the folder's users can read.</summary>
public sealed class FolderContent
{
    /// <summary>SHA-256 (hex) of every metadata key the folder ever had; root folders only, and entries never disappear.</summary>
    [JsonPropertyName("keyChecksums")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? KeyChecksums { get; set; }

    [JsonPropertyName("deleted")]
    public bool Deleted { get; set; }

    [JsonPropertyName("counter")]
    public long Counter { get; set; }

    /// <summary>Sub-folders: random 32-hex name → clear name.</summary>
    [JsonPropertyName("folders")]
    public Dictionary<string, string> Folders { get; set; } = new();

    /// <summary>Files: random 32-hex name (the object's name on the server) → what it is and how it is encrypted.</summary>
    [JsonPropertyName("files")]
    public Dictionary<string, FileEntry> Files { get; set; } = new();

    /// <summary>Whatever else a client put in, kept as it was.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

public sealed record FileEntry(
    [property: JsonPropertyName("filename")] string Filename,
    [property: JsonPropertyName("mimetype")] string Mimetype,
    [property: JsonPropertyName("nonce")] string Nonce,
    [property: JsonPropertyName("authenticationTag")] string AuthenticationTag,
    [property: JsonPropertyName("key")] string Key);

/// <summary>A user of a root folder: who can decrypt its metadata key.</summary>
public sealed record FolderUser(string UserId, string CertificatePem);
