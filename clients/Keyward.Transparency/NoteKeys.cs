using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Keyward.Transparency;

/// <summary>Checks one kind of signature line on a note body.</summary>
public interface INoteVerifier
{
    string Name { get; }

    uint KeyId { get; }

    bool Verify(string body, byte[] signature);
}

/// <summary>
/// The log's own key: ECDSA P-256 over SHA-256 (signed-note type 0x02), the HSM key of the tenant. Its key id
/// is the first four bytes of SHA-256 of the DER SubjectPublicKeyInfo — the convention of signed notes for
/// ECDSA, and what Rekor and sigstore clients check.
/// </summary>
public sealed class EcdsaNoteVerifier : INoteVerifier
{
    private readonly byte[] _subjectPublicKeyInfo;

    public EcdsaNoteVerifier(string name, byte[] subjectPublicKeyInfo)
    {
        Name = name;
        _subjectPublicKeyInfo = subjectPublicKeyInfo;
        Fingerprint = Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo));
        KeyId = KeyIdOf(subjectPublicKeyInfo);
    }

    public string Name { get; }

    public uint KeyId { get; }

    /// <summary>SHA-256 of the SubjectPublicKeyInfo, hex: what an auditor pins.</summary>
    public string Fingerprint { get; }

    public static uint KeyIdOf(byte[] subjectPublicKeyInfo) => BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(subjectPublicKeyInfo));

    public static EcdsaNoteVerifier FromPem(string name, string publicKeyPem)
    {
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportFromPem(publicKeyPem);
        return new EcdsaNoteVerifier(name, ecdsa.ExportSubjectPublicKeyInfo());
    }

    public bool Verify(string body, byte[] signature)
    {
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(_subjectPublicKeyInfo, out _);
        return ecdsa.VerifyData(Encoding.UTF8.GetBytes(body), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }
}

/// <summary>
/// A witness's C2SP tlog-cosignature/v1 key (Ed25519, type 0x04): the signature is a big-endian u64 time followed
/// by an Ed25519 signature over "cosignature/v1\ntime T\n" and the checkpoint body.
/// </summary>
public sealed class CosignatureVerifier : INoteVerifier
{
    public const byte SignatureType = 0x04;

    private readonly byte[] _publicKey;

    public CosignatureVerifier(string name, byte[] publicKey)
    {
        if (!TreeHead.IsOrigin(name) || publicKey.Length != 32)
        {
            throw new ArgumentException("a cosigner has a signed-note name and a 32-byte Ed25519 key");
        }

        Name = name;
        _publicKey = publicKey;
        KeyId = KeyIdOf(name, publicKey);
    }

    public string Name { get; }

    public uint KeyId { get; }

    /// <summary>The signed-note verifier key: <c>name+hex key id+base64(0x04 ‖ public key)</c>.</summary>
    public string VerifierKey => $"{Name}+{KeyId:x8}+{Convert.ToBase64String([SignatureType, .. _publicKey])}";

    /// <summary>When the last verified cosignature says it was made.</summary>
    public static long TimestampOf(byte[] signature) => signature.Length == 72 ? (long)BinaryPrimitives.ReadUInt64BigEndian(signature) : -1;

    public static uint KeyIdOf(string name, byte[] publicKey) =>
        BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData([.. Encoding.UTF8.GetBytes(name), 0x0A, SignatureType, .. publicKey]));

    public static bool TryParse(string verifierKey, out CosignatureVerifier verifier)
    {
        verifier = null!;
        var parts = verifierKey.Trim().Split('+', 3);
        if (parts.Length != 3 || !uint.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var keyId))
        {
            return false;
        }

        try
        {
            var key = Convert.FromBase64String(parts[2]);
            if (key.Length != 33 || key[0] != SignatureType || !TreeHead.IsOrigin(parts[0]))
            {
                return false;
            }

            verifier = new CosignatureVerifier(parts[0], key[1..]);
            return verifier.KeyId == keyId;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static byte[] SignedMessage(string body, long timestamp) =>
        Encoding.UTF8.GetBytes($"cosignature/v1\ntime {timestamp.ToString(CultureInfo.InvariantCulture)}\n{body}");

    public bool Verify(string body, byte[] signature)
    {
        if (signature.Length != 8 + 64)
        {
            return false;
        }

        var timestamp = BinaryPrimitives.ReadUInt64BigEndian(signature);
        if (timestamp > long.MaxValue)
        {
            return false;
        }

        var message = SignedMessage(body, (long)timestamp);
        var verifier = new Ed25519Signer();
        verifier.Init(false, new Ed25519PublicKeyParameters(_publicKey));
        verifier.BlockUpdate(message, 0, message.Length);
        return verifier.VerifySignature(signature[8..]);
    }
}

/// <summary>A witness's signing half (held by the witness, never by the log).</summary>
public sealed class Cosigner
{
    private readonly Ed25519PrivateKeyParameters _privateKey;

    public Cosigner(string name, byte[] privateKeySeed)
    {
        _privateKey = new Ed25519PrivateKeyParameters(privateKeySeed);
        Verifier = new CosignatureVerifier(name, _privateKey.GeneratePublicKey().GetEncoded());
    }

    public CosignatureVerifier Verifier { get; }

    public static byte[] NewSeed() => RandomNumberGenerator.GetBytes(32);

    public NoteSignature Cosign(string body, DateTimeOffset now)
    {
        var timestamp = now.ToUnixTimeSeconds();
        var message = CosignatureVerifier.SignedMessage(body, timestamp);
        var signer = new Ed25519Signer();
        signer.Init(true, _privateKey);
        signer.BlockUpdate(message, 0, message.Length);
        var signature = new byte[72];
        BinaryPrimitives.WriteUInt64BigEndian(signature, (ulong)timestamp);
        signer.GenerateSignature().CopyTo(signature, 8);
        return new NoteSignature(Verifier.Name, Verifier.KeyId, signature);
    }
}
