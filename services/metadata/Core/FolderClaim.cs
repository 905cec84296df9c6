namespace Keyward.Metadata.Core;

/// <summary>
/// Who a folder id belongs to, for good: written at the id's first registration and never removed, so that an
/// unregistered id (whose versions are kept) cannot be claimed by anyone but the owner of its tree again.
/// </summary>
public sealed class FolderClaim
{
    public string Id { get; set; } = "";

    /// <summary>The owner of the tree the folder was first registered in.</summary>
    public string OwnerId { get; set; } = "";

    public DateTimeOffset ClaimedAt { get; set; }
}

/// <summary>Limits of the folder rules (<c>Keyward:Metadata:Rules</c>).</summary>
public sealed class FolderRules
{
    public const string Section = "Keyward:Metadata:Rules";

    /// <summary>
    /// How far a lock's counter may be above the committed one. The reference only asks that it grows; without a bound a
    /// collaborator sending long.MaxValue would leave the folder unlockable for ever.
    /// </summary>
    public long MaxCounterStep { get; set; } = 1L << 20;

    /// <summary>
    /// How long a lock must have been idle (no lock, no write under its token) before the user holding it may break
    /// it without the token: a crashed client or a lost device should not leave a folder locked until the stale sweep.
    /// </summary>
    public TimeSpan LockIdleBreakAfter { get; set; } = TimeSpan.FromMinutes(15);
}
