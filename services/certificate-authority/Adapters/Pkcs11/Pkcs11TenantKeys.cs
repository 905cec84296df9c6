using System.Collections.Concurrent;
using System.Formats.Asn1;
using System.Security.Cryptography;
using Keyward.CertificateAuthority.Core;
using Microsoft.Extensions.Options;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using ISession = Net.Pkcs11Interop.HighLevelAPI.ISession;

namespace Keyward.CertificateAuthority.Adapters.Pkcs11;

/// <summary>
/// Tenant keys inside the HSM: generated there on a tenant's first use (token objects, sensitive,
/// never extractable, sign-only) and found again by label after a restart. Only the public half and
/// the object handle are kept in memory.
/// </summary>
public sealed class Pkcs11TenantKeys(Pkcs11Token token, IOptions<CaOptions> options, ILogger<Pkcs11TenantKeys> logger) : ITenantKeys
{
    private static readonly byte[] P256Parameters = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
    private readonly ConcurrentDictionary<string, Pkcs11Key> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, object> _creationLocks = new(StringComparer.Ordinal);

    public KeyLookup CertificateKey(string tenantId) => Resolve(tenantId, KeyPurpose.Certificates);

    public KeyLookup CheckpointKey(string tenantId) => Resolve(tenantId, KeyPurpose.Checkpoints);

    /// <summary>
    /// Checks, without a signature, that the HSM could sign now: a key already in use still resolves on the token and
    /// may sign (an unplugged token fails here), else the token answers a logged-in session.
    /// </summary>
    /// <exception cref="HsmUnavailableException">It could not.</exception>
    public void ProbeSigning()
    {
        if (_keys.Values.FirstOrDefault() is { } key)
        {
            key.Probe();
            return;
        }

        token.Run(session => session.GetSessionInfo());
    }

    public static string Label(string tenantId, KeyPurpose purpose) =>
        $"keyward:{tenantId}:{(purpose == KeyPurpose.Certificates ? "ca" : "checkpoint")}";

    private KeyLookup Resolve(string tenantId, KeyPurpose purpose)
    {
        var label = Label(tenantId, purpose);
        if (_keys.TryGetValue(label, out var cached))
        {
            return new KeyLookup(cached, GeneratedNow: false);
        }

        // One creator per label in this process; across replicas see PickSurvivor.
        lock (_creationLocks.GetOrAdd(label, _ => new object()))
        {
            if (_keys.TryGetValue(label, out cached))
            {
                return new KeyLookup(cached, GeneratedNow: false);
            }

            var (spki, created) = token.Run(session => FindOrCreate(session, label, purpose));
            if (created)
            {
                logger.LogInformation("Generated {Purpose} key for tenant {TenantId} in the HSM", purpose, tenantId);
            }

            var key = new Pkcs11Key(token, label, purpose, spki);
            _keys[label] = key;
            return new KeyLookup(key, created);
        }
    }

    private (byte[] Spki, bool Created) FindOrCreate(ISession session, string label, KeyPurpose purpose)
    {
        var existing = FindKeyPairs(session, label);
        if (existing.Count > 0)
        {
            return (PublicKeyInfo(session, PickSurvivor(session, existing).Public, purpose), false);
        }

        var id = RandomNumberGenerator.GetBytes(16);
        Generate(session, label, id, purpose);
        // Two replicas may have generated at once: all keep the pair with the smallest id, the others go.
        var survivor = PickSurvivor(session, FindKeyPairs(session, label));
        return (PublicKeyInfo(session, survivor.Public, purpose), survivor.Id.AsSpan().SequenceEqual(id));
    }

    private void Generate(ISession session, string label, byte[] id, KeyPurpose purpose)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        var publicTemplate = new List<IObjectAttribute>
        {
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, false),
            attributes.Create(CKA.CKA_LABEL, label),
            attributes.Create(CKA.CKA_ID, id),
            attributes.Create(CKA.CKA_VERIFY, true),
        };
        var privateTemplate = new List<IObjectAttribute>
        {
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, true),
            attributes.Create(CKA.CKA_LABEL, label),
            attributes.Create(CKA.CKA_ID, id),
            // The private key never leaves the HSM and can do nothing but sign.
            attributes.Create(CKA.CKA_SENSITIVE, true),
            attributes.Create(CKA.CKA_EXTRACTABLE, false),
            attributes.Create(CKA.CKA_SIGN, true),
            attributes.Create(CKA.CKA_DECRYPT, false),
            attributes.Create(CKA.CKA_UNWRAP, false),
            attributes.Create(CKA.CKA_DERIVE, false),
        };

        CKM mechanism;
        if (purpose == KeyPurpose.Certificates)
        {
            mechanism = CKM.CKM_RSA_PKCS_KEY_PAIR_GEN;
            publicTemplate.Add(attributes.Create(CKA.CKA_ENCRYPT, false));
            publicTemplate.Add(attributes.Create(CKA.CKA_WRAP, false));
            publicTemplate.Add(attributes.Create(CKA.CKA_MODULUS_BITS, (ulong)options.Value.RsaKeySize));
            publicTemplate.Add(attributes.Create(CKA.CKA_PUBLIC_EXPONENT, new byte[] { 0x01, 0x00, 0x01 }));
        }
        else
        {
            mechanism = CKM.CKM_EC_KEY_PAIR_GEN;
            publicTemplate.Add(attributes.Create(CKA.CKA_EC_PARAMS, P256Parameters));
        }

        session.GenerateKeyPair(session.Factories.MechanismFactory.Create(mechanism), publicTemplate, privateTemplate, out _, out _);
    }

    private static List<KeyPair> FindKeyPairs(ISession session, string label)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        var privateKeys = session.FindAllObjects([attributes.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY), attributes.Create(CKA.CKA_LABEL, label)]);
        var pairs = new List<KeyPair>();
        foreach (var privateKey in privateKeys)
        {
            var id = session.GetAttributeValue(privateKey, [CKA.CKA_ID])[0].GetValueAsByteArray();
            var publicKey = session.FindAllObjects([attributes.Create(CKA.CKA_CLASS, CKO.CKO_PUBLIC_KEY), attributes.Create(CKA.CKA_LABEL, label), attributes.Create(CKA.CKA_ID, id)]);
            if (publicKey.Count > 0)
            {
                pairs.Add(new KeyPair(id, privateKey, publicKey[0]));
            }
        }

        return pairs;
    }

    private static KeyPair PickSurvivor(ISession session, List<KeyPair> pairs)
    {
        var ordered = pairs.OrderBy(p => Convert.ToHexString(p.Id), StringComparer.Ordinal).ToList();
        foreach (var loser in ordered.Skip(1))
        {
            session.DestroyObject(loser.Private);
            session.DestroyObject(loser.Public);
        }

        return ordered[0];
    }

    private static byte[] PublicKeyInfo(ISession session, IObjectHandle publicKey, KeyPurpose purpose)
    {
        if (purpose == KeyPurpose.Certificates)
        {
            var values = session.GetAttributeValue(publicKey, [CKA.CKA_MODULUS, CKA.CKA_PUBLIC_EXPONENT]);
            using var rsa = RSA.Create(new RSAParameters { Modulus = values[0].GetValueAsByteArray(), Exponent = values[1].GetValueAsByteArray() });
            return rsa.ExportSubjectPublicKeyInfo();
        }

        // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point 04 || X || Y.
        var point = new AsnReader(session.GetAttributeValue(publicKey, [CKA.CKA_EC_POINT])[0].GetValueAsByteArray(), AsnEncodingRules.DER).ReadOctetString();
        using var ec = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = point[1..33], Y = point[33..65] },
        });
        return ec.ExportSubjectPublicKeyInfo();
    }

    private sealed record KeyPair(byte[] Id, IObjectHandle Private, IObjectHandle Public);

    /// <summary>A key in the HSM: signs through a pooled session, re-finding its handle after a reconnect.</summary>
    private sealed class Pkcs11Key(Pkcs11Token token, string label, KeyPurpose purpose, byte[] spki) : TenantKey(spki)
    {
        private (long Generation, IObjectHandle Handle)? _handle;

        public override byte[] SignSha256(byte[] data) => token.Run((session, generation) =>
        {
            var handle = Handle(session, generation);
            var mechanisms = session.Factories.MechanismFactory;
            if (purpose == KeyPurpose.Certificates)
            {
                return session.Sign(mechanisms.Create(CKM.CKM_SHA256_RSA_PKCS), handle, data);
            }

            var raw = session.Sign(mechanisms.Create(CKM.CKM_ECDSA), handle, SHA256.HashData(data));
            return DerSignature(raw);
        });

        public void Probe() => token.Run((session, generation) =>
        {
            if (!session.GetAttributeValue(Handle(session, generation), [CKA.CKA_SIGN])[0].GetValueAsBool())
            {
                throw new HsmUnavailableException($"the key '{label}' may no longer sign");
            }

            return true;
        });

        private IObjectHandle Handle(ISession session, long generation) =>
            _handle is { } known && known.Generation == generation ? known.Handle : FindPrivateKey(session, generation);

        private IObjectHandle FindPrivateKey(ISession session, long generation)
        {
            var attributes = session.Factories.ObjectAttributeFactory;
            var found = session.FindAllObjects([attributes.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY), attributes.Create(CKA.CKA_LABEL, label)]);
            if (found.Count == 0)
            {
                throw new HsmUnavailableException($"the key '{label}' is no longer in the HSM token");
            }

            // Several only while replicas race on creation; the survivor rule keeps the smallest id.
            var handle = found
                .Select(h => (Handle: h, Id: Convert.ToHexString(session.GetAttributeValue(h, [CKA.CKA_ID])[0].GetValueAsByteArray())))
                .OrderBy(x => x.Id, StringComparer.Ordinal)
                .First().Handle;
            _handle = (generation, handle);
            return handle;
        }

        // PKCS#11 gives r || s; X.509 and most verifiers want the DER SEQUENCE { r, s }.
        private static byte[] DerSignature(byte[] raw)
        {
            var half = raw.Length / 2;
            var writer = new AsnWriter(AsnEncodingRules.DER);
            writer.PushSequence();
            writer.WriteIntegerUnsigned(Minimal(raw.AsSpan(0, half)));
            writer.WriteIntegerUnsigned(Minimal(raw.AsSpan(half)));
            writer.PopSequence();
            return writer.Encode();
        }

        // DER integers carry no leading zero bytes; r or s has one about once in 256 signatures.
        private static ReadOnlySpan<byte> Minimal(ReadOnlySpan<byte> value)
        {
            var start = 0;
            while (start < value.Length - 1 && value[start] == 0)
            {
                start++;
            }

            return value[start..];
        }
    }
}

public enum KeyPurpose
{
    Certificates,
    Checkpoints,
}
