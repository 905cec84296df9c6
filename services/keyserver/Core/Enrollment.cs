using System.Security.Cryptography;

namespace Keyward.Keyserver.Core;

/// <summary>Rules of device enrollment and recovery keys that the keyserver enforces.</summary>
public static class Enrollment
{
    /// <summary>How long a device request may wait for approval.</summary>
    public static readonly TimeSpan RequestLifetime = TimeSpan.FromMinutes(10);

    public const int MaxSealedLength = 64 * 1024;

    /// <summary>
    /// Unanswered requests a user may have at once: enough for a few new devices, too few to flood the approving
    /// device. The words compared on both devices are computed by the devices from the request's key (the server
    /// chooses none: Keyward.Client.DeviceCode).
    /// </summary>
    public const int MaxPendingRequests = 5;

    /// <summary>An RSA public key of 2048 bits or more in SPKI PEM, or null; returns its SHA-256 fingerprint.</summary>
    public static string? RsaFingerprint(string? publicKeyPem, int minimumBits = 2048)
    {
        if (string.IsNullOrEmpty(publicKeyPem) || publicKeyPem.Length > 16 * 1024)
        {
            return null;
        }

        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(publicKeyPem);
            return rsa.KeySize >= minimumBits ? Convert.ToHexStringLower(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo())) : null;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    public static bool IsSealed(string? sealedKey) => !string.IsNullOrEmpty(sealedKey) && sealedKey.Length <= MaxSealedLength;
}
