namespace Keyward.Keyserver.Core;

/// <summary>A new device's request for the user's private key, sealed to its ephemeral key by an existing device.</summary>
public sealed class StoredDeviceRequest
{
    public string Id { get; set; } = "";

    public string UserId { get; set; } = "";

    public string EphemeralPublicKey { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Set on approval, removed once collected: opaque to the server.</summary>
    public string? SealedPrivateKey { get; set; }

    public string Status { get; set; } = "pending";
}

/// <summary>The tenant's recovery key (public half only; the private half stays offline with the admins).</summary>
public sealed class StoredRecoveryPolicy
{
    public const string SingletonId = "recovery";

    public string Id { get; set; } = SingletonId;

    public string PublicKey { get; set; } = "";

    public string Fingerprint { get; set; } = "";

    public string EnabledBy { get; set; } = "";

    public DateTimeOffset EnabledAt { get; set; }

    /// <summary>False once M admins disabled recovery: the document stays, so the history of keys does too.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Every earlier recovery key's fingerprint, oldest first: the history is never lost.</summary>
    public List<string> PreviousFingerprints { get; set; } = [];
}

/// <summary>A recovery change that M of N admins must approve: rotate the key, disable recovery, release an escrow copy.</summary>
public sealed class StoredRecoveryChange
{
    public string Id { get; set; } = "";

    /// <summary><see cref="RecoveryActions"/>.</summary>
    public string Action { get; set; } = "";

    /// <summary>rotate: the new recovery public key and its fingerprint.</summary>
    public string? PublicKey { get; set; }

    public string? Fingerprint { get; set; }

    /// <summary>release: whose escrow copy.</summary>
    public string? UserId { get; set; }

    public string RequestedBy { get; set; } = "";

    public List<string> ApprovedBy { get; set; } = [];

    public int ApprovalsNeeded { get; set; }

    /// <summary>pending, done (rotate, disable), approved (release, until fetched), released.</summary>
    public string Status { get; set; } = "pending";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>One time a user's escrow copy was handed to an admin: the user sees every one (<c>keyward status</c>).</summary>
public sealed class StoredEscrowRelease
{
    public string Id { get; set; } = "";

    public string UserId { get; set; } = "";

    public DateTimeOffset ReleasedAt { get; set; }

    public string ReleasedTo { get; set; } = "";

    public List<string> ApprovedBy { get; set; } = [];

    public string RecoveryFingerprint { get; set; } = "";
}

public static class RecoveryActions
{
    public const string Rotate = "rotate";
    public const string Disable = "disable";
    public const string Release = "release";
}

/// <summary>How many distinct admins approve each recovery change (<c>Keyward:Recovery:Approvals</c>), and how long a request waits.</summary>
public sealed class RecoveryRules
{
    public const string Section = "Keyward:Recovery:Approvals";

    public int Rotate { get; set; } = 2;

    public int Disable { get; set; } = 2;

    public int Release { get; set; } = 2;

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(24);

    public int Needed(string action) => action switch { RecoveryActions.Rotate => Rotate, RecoveryActions.Disable => Disable, _ => Release };
}

/// <summary>A user's private key sealed to the recovery key.</summary>
public sealed class StoredEscrow
{
    public string Id { get; set; } = "";

    public string SealedPrivateKey { get; set; } = "";

    public string RecoveryFingerprint { get; set; } = "";

    public DateTimeOffset StoredAt { get; set; }
}
