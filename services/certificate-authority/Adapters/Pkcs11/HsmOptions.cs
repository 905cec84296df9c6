namespace Keyward.CertificateAuthority.Adapters.Pkcs11;

/// <summary>Which PKCS#11 module and token hold the tenants' keys (<c>Keyward:Hsm</c>).</summary>
public sealed class HsmOptions
{
    public const string Section = "Keyward:Hsm";

    /// <summary>Path of the vendor's PKCS#11 library (SoftHSM2 locally).</summary>
    public string ModulePath { get; set; } = "/usr/lib/softhsm/libsofthsm2.so";

    /// <summary>The token is found by label: slot numbers are not stable (SoftHSM assigns them at random).</summary>
    public string TokenLabel { get; set; } = "";

    /// <summary>The user PIN; in Kubernetes from a Secret. Alternatively <see cref="PinFile"/>.</summary>
    public string? Pin { get; set; }

    public string? PinFile { get; set; }

    public string ReadPin()
    {
        if (!string.IsNullOrEmpty(Pin))
        {
            return Pin;
        }

        if (!string.IsNullOrEmpty(PinFile) && File.Exists(PinFile))
        {
            return File.ReadAllText(PinFile).Trim();
        }

        throw new InvalidOperationException("No HSM PIN configured: set Keyward:Hsm:Pin or Keyward:Hsm:PinFile.");
    }
}
