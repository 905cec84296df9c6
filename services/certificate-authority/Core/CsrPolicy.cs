using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Keyward.Common.Certificates;
using Keyward.Common.V1;

namespace Keyward.CertificateAuthority.Core;

/// <summary>
/// Who may get which certificate. The reference server checks only that the CSR parses and that its CN is
/// the user (reference §a.2, §c); Keyward also verifies the CSR's self-signature and refuses weak keys.
/// </summary>
public static class CsrPolicy
{
    private const int MaxPemLength = 64 * 1024;
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";
    private static readonly Dictionary<string, string> AllowedCurves = new()
    {
        ["1.2.840.10045.3.1.7"] = "P-256",
        ["1.3.132.0.34"] = "P-384",
    };

    // Messages of the reference server (§a.2), so the gateway can pass them through unchanged.
    public const string UnparsableMessage = "Could not parse the CSR, please make sure to submit a valid CSR";
    public const string CnMismatchMessage = "Common name (CN) does not match the current user";

    public static CsrDecision Evaluate(string? csrPem, string userId)
    {
        if (string.IsNullOrWhiteSpace(csrPem) || csrPem.Length > MaxPemLength)
        {
            return CsrDecision.Refuse(RefusalReason.CsrInvalid, UnparsableMessage);
        }

        CertificateRequest request;
        try
        {
            // Default load options verify the request's self-signature: the requester holds the private key.
            request = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default, RSASignaturePadding.Pkcs1);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return CsrDecision.Refuse(RefusalReason.CsrInvalid, UnparsableMessage);
        }

        // Exactly one CN, equal to the user id including case (reference §a.2).
        if (!DistinguishedNames.NamesExactly(request.SubjectName, userId))
        {
            return CsrDecision.Refuse(RefusalReason.CnMismatch, CnMismatchMessage);
        }

        var keyProblem = KeyProblem(request.PublicKey);
        return keyProblem is null ? CsrDecision.Accept(request) : CsrDecision.Refuse(RefusalReason.KeyPolicy, keyProblem);
    }

    /// <summary>
    /// An admin re-issue: the user's current certificate stands in for the CSR (the admin has no user key to
    /// sign one); its subject must still name the user and its key must still pass the key policy.
    /// </summary>
    public static CsrDecision EvaluateReissue(string? certificatePem, string userId)
    {
        X509Certificate2 current;
        try
        {
            current = X509Certificate2.CreateFromPem(certificatePem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return CsrDecision.Refuse(RefusalReason.CertificateInvalid, "the current certificate does not parse");
        }

        using (current)
        {
            if (!DistinguishedNames.NamesExactly(current.SubjectName, userId))
            {
                return CsrDecision.Refuse(RefusalReason.CnMismatch, CnMismatchMessage);
            }

            var keyProblem = KeyProblem(current.PublicKey);
            return keyProblem is null
                ? CsrDecision.Accept(new CertificateRequest(current.SubjectName, current.PublicKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
                : CsrDecision.Refuse(RefusalReason.KeyPolicy, keyProblem);
        }
    }

    private static string? KeyProblem(PublicKey key)
    {
        switch (key.Oid.Value)
        {
            case RsaOid:
                using (var rsa = key.GetRSAPublicKey()!)
                {
                    return rsa.KeySize is >= 2048 and <= 8192 ? null : $"Could not sign the CSR: RSA keys must have 2048 to 8192 bits, this one has {rsa.KeySize}";
                }

            case EcOid:
                using (var ec = key.GetECDsaPublicKey()!)
                {
                    var curve = ec.ExportParameters(false).Curve;
                    return curve.IsNamed && curve.Oid.Value is { } oid && AllowedCurves.ContainsKey(oid)
                        ? null
                        : "Could not sign the CSR: EC keys must be on curve P-256 or P-384";
                }

            default:
                return "Could not sign the CSR: only RSA (2048 bits or more) and EC P-256/P-384 keys can be certified";
        }
    }
}

public sealed record CsrDecision(CertificateRequest? Request, RefusalReason? Reason, string? Message)
{
    public bool Accepted => Request is not null;

    public static CsrDecision Accept(CertificateRequest request) => new(request, null, null);

    public static CsrDecision Refuse(RefusalReason reason, string message) => new(null, reason, message);
}
