namespace Keyward.Keyserver.Core;

/// <summary>A new device's request for the user's private key, sealed to its ephemeral key by an existing device.</summary>
public sealed class StoredDeviceRequest
{
    public string Id { get; set; } = "";

    public string UserId { get; set; } = "";

    public string EphemeralPublicKey { get; set; } = "";

    public string Code { get; set; } = "";

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
}

/// <summary>A user's private key sealed to the recovery key.</summary>
public sealed class StoredEscrow
{
    public string Id { get; set; } = "";

    public string SealedPrivateKey { get; set; } = "";

    public string RecoveryFingerprint { get; set; } = "";

    public DateTimeOffset StoredAt { get; set; }
}
