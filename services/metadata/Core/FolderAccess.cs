using Keyward.Common.Auth;

namespace Keyward.Metadata.Core;

/// <summary>
/// Who may read and lock an encrypted tree: its owner and the users listed in the root's committed v2
/// metadata. Sub-folders follow their root. Nextcloud's share bookkeeping is not ours; the users array is
/// what the owner's client signed.
/// </summary>
public static class FolderAccess
{
    public static bool MayUse(EncryptedFolder root, TenantContext caller) =>
        root.OwnerId == caller.UserId || root.Users.Contains(caller.UserId, StringComparer.Ordinal);

    /// <summary>Reading old versions: the owner and the tree's current members only (an admin is no member: E2EE protects users from them).</summary>
    public static bool MayReadVersions(EncryptedFolder root, TenantContext caller) => MayUse(root, caller);

    public static bool IsValidFolderId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
