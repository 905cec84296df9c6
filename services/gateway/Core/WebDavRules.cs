namespace Keyward.Gateway.Core;

/// <summary>What the front door decides about a WebDAV write that touches an encrypted folder (reference §1.3, in its order).</summary>
public enum DavWriteVerdict
{
    Pass,
    MixedMove,
    ClientNotAllowed,
    NoToken,
    NotLocked,
}

/// <summary>
/// The WebDAV layer's E2EE write rules as the front door applies them, without the reference's gaps: PROPPATCH and
/// chunk-assembly MOVEs are writes too, and <c>X-Nc-Sabre-Original-Method</c> (which a client can send itself) is
/// removed before anything looks at it, so no move skips the checks.
/// </summary>
public static class WebDavRules
{
    public const string FilesRoot = "/remote.php/dav/files/";
    public const string UploadsRoot = "/remote.php/dav/uploads/";
    public const string TokenHeader = "e2e-token";

    private static readonly HashSet<string> Writes = new(StringComparer.OrdinalIgnoreCase) { "PUT", "MKCOL", "DELETE", "MOVE", "COPY", "PROPPATCH" };

    public static bool IsWrite(string method) => Writes.Contains(method);

    public static bool IsMove(string method) => method.Equals("MOVE", StringComparison.OrdinalIgnoreCase) || method.Equals("COPY", StringComparison.OrdinalIgnoreCase);

    /// <summary>A path in some user's files (<c>/remote.php/dav/files/&lt;uid&gt;/…</c>), as sent (still percent-encoded).</summary>
    public static bool IsFilesPath(string path) => path.StartsWith(FilesRoot, StringComparison.Ordinal) && path.Length > FilesRoot.Length;

    /// <summary>A chunked upload's assembly source (<c>/remote.php/dav/uploads/&lt;uid&gt;/&lt;id&gt;/.file</c>): a write into its destination only.</summary>
    public static bool IsUploadPath(string path) => path.StartsWith(UploadsRoot, StringComparison.Ordinal);

    public const string SaveSuffix = ".e2e-to-save";
    public const string DeleteSuffix = ".e2e-to-delete";

    /// <summary>Whether the last segment of a path carries a staging suffix (reserved: nobody may create such a name).</summary>
    public static bool HasReservedSuffix(string path)
    {
        var name = path.TrimEnd('/');
        return name.EndsWith(SaveSuffix, StringComparison.Ordinal) || name.EndsWith(DeleteSuffix, StringComparison.Ordinal);
    }

    /// <summary>The path with <paramref name="suffix"/> on its last segment; a collection's trailing slash is kept.</summary>
    public static string WithSuffix(string path, string suffix) => path.EndsWith('/') ? path.TrimEnd('/') + suffix + "/" : path + suffix;

    /// <summary>The staged name's final one (the suffix taken off), or null when the path is not staged.</summary>
    public static string? WithoutSuffix(string path, out bool deleted)
    {
        var slash = path.EndsWith('/') ? "/" : "";
        var name = path.TrimEnd('/');
        deleted = name.EndsWith(DeleteSuffix, StringComparison.Ordinal);
        var suffix = deleted ? DeleteSuffix : name.EndsWith(SaveSuffix, StringComparison.Ordinal) ? SaveSuffix : null;
        return suffix is null ? null : name[..^suffix.Length] + slash;
    }

    /// <summary>The parent collection of a files path, or null at a user's root (which is never encrypted itself).</summary>
    public static string? Parent(string path)
    {
        var trimmed = path.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        var parent = slash < 0 ? null : trimmed[..(slash + 1)];
        return parent is not null && IsFilesPath(parent) && parent.AsSpan(FilesRoot.Length).TrimEnd('/').Contains('/') ? parent : null;
    }

    /// <summary>
    /// The decision, given whether the source (or target) and, for COPY/MOVE, the destination are encrypted paths,
    /// whether the client may touch encrypted content, the token sent, and whether it holds the lock of every encrypted side.
    /// </summary>
    public static DavWriteVerdict Decide(bool sourceEncrypted, bool? destinationEncrypted, bool clientAllowed, string? token, bool held)
    {
        if (!sourceEncrypted && destinationEncrypted != true)
        {
            return DavWriteVerdict.Pass;
        }

        if (destinationEncrypted is { } destination && destination != sourceEncrypted)
        {
            return DavWriteVerdict.MixedMove;
        }

        if (!clientAllowed)
        {
            return DavWriteVerdict.ClientNotAllowed;
        }

        if (string.IsNullOrEmpty(token))
        {
            return DavWriteVerdict.NoToken;
        }

        return held ? DavWriteVerdict.Pass : DavWriteVerdict.NotLocked;
    }

    /// <summary>The reference's status, Sabre exception class and message for a refusal.</summary>
    public static (int Status, string Exception, string Message) Refusal(DavWriteVerdict verdict, string? userAgent) => verdict switch
    {
        DavWriteVerdict.MixedMove => (403, Forbidden, "Cannot copy or move files from non-encrypted folders to end to end encrypted folders or vice versa."),
        DavWriteVerdict.ClientNotAllowed => (403, Forbidden, $"Client \"{userAgent}\" is not allowed to access end-to-end encrypted content"),
        DavWriteVerdict.NoToken => (403, Forbidden, "Write access to end-to-end encrypted folder requires token - no token sent"),
        DavWriteVerdict.NotLocked => (423, "OCA\\DAV\\Connector\\Sabre\\Exception\\FileLocked", "Write access to end-to-end encrypted folder requires token - resource not locked or wrong token sent"),
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, "not a refusal"),
    };

    /// <summary>The reason an audited refusal gives (the trail names the verdict, never the path: it holds file names).</summary>
    public static string RefusalCode(DavWriteVerdict verdict) => verdict switch
    {
        DavWriteVerdict.MixedMove => "MIXED_MOVE",
        DavWriteVerdict.ClientNotAllowed => "CLIENT_NOT_ALLOWED",
        DavWriteVerdict.NoToken => "LOCK_TOKEN_MISSING",
        DavWriteVerdict.NotLocked => "LOCK_NOT_HELD",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, "not a refusal"),
    };

    private const string Forbidden = "OCA\\DAV\\Connector\\Sabre\\Exception\\Forbidden";
}
