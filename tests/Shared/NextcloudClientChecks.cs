using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace Keyward.Tests.Shared;

/// <summary>
/// What a Nextcloud client does with the server's answers (reference §c, §d, §i), written with
/// libraries independent of the server code: certificate against server key, private-key blob against
/// mnemonic, CMS metadata signature against the signer's certificate.
/// </summary>
public static class NextcloudClientChecks
{
    /// <summary>The certificate's signature verifies with the server key (RSA PKCS#1 v1.5) and it is valid now ±60 s.</summary>
    public static void VerifyCertificateAgainstServerKey(string certificatePem, string serverKeyPem)
    {
        var certificate = new X509CertificateParser().ReadCertificate(Encoding.ASCII.GetBytes(certificatePem));
        var serverKey = PublicKeyFactory.CreateKey(Convert.FromBase64String(PemBody(serverKeyPem)));
        certificate.Verify(serverKey); // throws when the signature does not verify
        var now = DateTime.UtcNow;
        if (certificate.NotBefore > now.AddSeconds(60) || certificate.NotAfter < now.AddSeconds(-60))
        {
            throw new InvalidOperationException("certificate is not valid now");
        }
    }

    /// <summary>Decrypts a stored private-key blob with the 12-word mnemonic, trying the KDFs clients try, in their order.</summary>
    public static string DecryptPrivateKeyBlob(string blob, string mnemonic)
    {
        var parts = blob.Split('|');
        var cipherAndTag = Convert.FromBase64String(parts[0]);
        var iv = Convert.FromBase64String(parts[1]);
        var salt = Convert.FromBase64String(parts[2]);
        var password = new string(mnemonic.ToLowerInvariant().Where(c => !char.IsWhiteSpace(c)).ToArray());
        foreach (var (hash, iterations) in new[] { (HashAlgorithmName.SHA256, 600_000), (HashAlgorithmName.SHA1, 1024), (HashAlgorithmName.SHA1, 600_000) })
        {
            var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, hash, 32);
            using var aes = new AesGcm(key, 16);
            var plaintext = new byte[cipherAndTag.Length - 16];
            try
            {
                aes.Decrypt(iv, cipherAndTag.AsSpan(0, plaintext.Length), cipherAndTag.AsSpan(plaintext.Length), plaintext);
            }
            catch (AuthenticationTagMismatchException)
            {
                continue;
            }

            // The plaintext is the PKCS#8 PEM, Base64-encoded once more (reference §d).
            return Encoding.UTF8.GetString(Convert.FromBase64String(Encoding.ASCII.GetString(plaintext)));
        }

        throw new CryptographicException("no KDF opens this blob with that mnemonic");
    }

    /// <summary>
    /// A detached CMS signature over <paramref name="content"/> made with the user's key and certificate,
    /// checked as the web client does: the signature, then a chain with the signer's own certificate as
    /// the only trust anchor (which needs CA:TRUE and no KeyUsage without keyCertSign), and the signer
    /// found by issuer CN = user id.
    /// </summary>
    public static void SignAndVerifyCms(byte[] content, X509Certificate2 certificateWithKey, string userId)
    {
        var signed = new SignedCms(new ContentInfo(content), detached: true);
        signed.ComputeSignature(new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, certificateWithKey) { IncludeOption = X509IncludeOption.EndCertOnly });
        var encoded = signed.Encode();

        var received = new SignedCms(new ContentInfo(content), detached: true);
        received.Decode(encoded);
        received.CheckSignature(verifySignatureOnly: true);

        var signer = received.SignerInfos[0].Certificate ?? throw new InvalidOperationException("no signer certificate in the CMS");
        if (signer.GetNameInfo(X509NameType.SimpleName, forIssuer: true) != userId)
        {
            throw new InvalidOperationException("Signer not found in the users array");
        }

        using var anchor = X509CertificateLoader.LoadCertificate(signer.RawData);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(anchor);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!chain.Build(signer))
        {
            var problems = string.Join(", ", chain.ChainStatus.Select(s => s.Status));
            throw new InvalidOperationException($"the signer's certificate is not a usable trust anchor: {problems}");
        }
    }

    private static string PemBody(string pem) =>
        string.Concat(pem.Split('\n').Where(line => !line.StartsWith("-----", StringComparison.Ordinal)).Select(line => line.Trim()));
}
