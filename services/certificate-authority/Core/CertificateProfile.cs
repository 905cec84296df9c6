using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Keyward.CertificateAuthority.Core;

/// <summary>
/// The Nextcloud-compatible user certificate (reference §c and §i): issuer DN = subject DN (clients find a
/// metadata signer by the issuer CN), BasicConstraints CA:TRUE and no KeyUsage (the web client uses the
/// signer's own certificate as trust anchor), sha256WithRSAEncryption by the tenant CA key, random serial.
/// </summary>
public sealed class CertificateProfile(int validityDays)
{
    public X509Certificate2 Issue(CertificateRequest csr, TenantKey caKey, DateTimeOffset now)
    {
        var request = new CertificateRequest(csr.SubjectName, csr.PublicKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(csr.PublicKey, critical: false));
        // A minute of back-dating: clients check validity with only 60 s of leeway (reference §c).
        return request.Create(csr.SubjectName, new CaSignatureGenerator(caKey), now.AddMinutes(-1), now.AddDays(validityDays), RandomSerial());
    }

    private static byte[] RandomSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01); // positive and exactly 16 bytes long
        return serial;
    }

    /// <summary>Hands the to-be-signed bytes to the tenant key, wherever it lives.</summary>
    private sealed class CaSignatureGenerator(TenantKey key) : X509SignatureGenerator
    {
        public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm)
        {
            if (hashAlgorithm != HashAlgorithmName.SHA256)
            {
                throw new ArgumentOutOfRangeException(nameof(hashAlgorithm), "The CA signs with SHA-256 only.");
            }

            var writer = new AsnWriter(AsnEncodingRules.DER);
            writer.PushSequence();
            writer.WriteObjectIdentifier("1.2.840.113549.1.1.11"); // sha256WithRSAEncryption
            writer.WriteNull();
            writer.PopSequence();
            return writer.Encode();
        }

        public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm) => key.SignSha256(data);

        protected override PublicKey BuildPublicKey() => PublicKey.CreateFromSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _);
    }
}
