namespace Keyward.Keyserver.Core;

/// <summary>A user's certificate, keyed by user id within the tenant. Never updated: deleted and created anew.</summary>
public sealed class StoredCertificate
{
    public string Id { get; set; } = "";

    public string CertificatePem { get; set; } = "";

    public string FingerprintSha256 { get; set; } = "";

    /// <summary><c>ca</c> (issued by the tenant CA) or <c>external</c> (brought by the user).</summary>
    public string Source { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A user's encrypted private-key blob, exactly as the client sent it.</summary>
public sealed class StoredPrivateKey
{
    public string Id { get; set; } = "";

    public string Blob { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
}
