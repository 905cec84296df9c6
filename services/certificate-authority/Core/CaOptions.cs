namespace Keyward.CertificateAuthority.Core;

/// <summary>How tenant CA keys are made and how long user certificates last (<c>Keyward:Ca</c>).</summary>
public sealed class CaOptions
{
    public const string Section = "Keyward:Ca";

    /// <summary>RSA size of a new tenant CA key: 2048, 3072 or 4096. It must be RSA: Nextcloud clients verify only RSA PKCS#1 v1.5 certificate signatures.</summary>
    public int RsaKeySize { get; set; } = 2048;

    /// <summary>Validity of user certificates; the reference server uses 7300 days (20 years), reference §c.</summary>
    public int ValidityDays { get; set; } = 7300;

    /// <summary>User certificates one user may have signed per hour: a real client asks once, re-issues are rare.</summary>
    public int SignaturesPerUserPerHour { get; set; } = 30;

    /// <summary>User certificates one tenant may have signed per minute: well above what an HSM partition does for one tenant.</summary>
    public int SignaturesPerTenantPerMinute { get; set; } = 60_000;

    public static bool IsValid(CaOptions o) =>
        o.RsaKeySize is 2048 or 3072 or 4096 && o.ValidityDays is >= 1 and <= 36500 && o.SignaturesPerUserPerHour > 0 && o.SignaturesPerTenantPerMinute > 0;
}
