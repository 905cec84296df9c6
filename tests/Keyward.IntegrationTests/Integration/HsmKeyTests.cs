using Keyward.Tests.Shared;
using Keyward.Transparency;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Keyward.CertificateAuthority.V1;
using Keyward.IntegrationTests.Infrastructure;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.IntegrationTests.Integration;

/// <summary>The tenant keys as the HSM itself holds them, read with PKCS#11 next to the running CA.</summary>
[Collection(SystemCollection.Name)]
public sealed class HsmKeyTests(KeywardSystem system)
{
    static HsmKeyTests()
    {
        NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, (name, _, _) =>
            name == "libdl" ? NativeLibrary.Load("libdl.so.2") : IntPtr.Zero);
    }

    private CaClient Ca(string tenant, string roles = "user") =>
        new(GrpcChannel.ForAddress(system.Service("certificate-authority").GrpcAddress));

    private Grpc.Core.Metadata Auth(string tenant, string roles = "user") =>
        new() { { "authorization", $"Bearer {system.Tenants.Token("hsm-test", roles, tenant)}" } };

    [Theory]
    [InlineData("ca")]
    [InlineData("checkpoint")]
    public async Task A_tenant_private_key_cannot_be_read_out_of_the_token(string purpose)
    {
        var ca = Ca(TestTenants.TenantA);
        var served = purpose == "ca"
            ? (await ca.GetServerKeyAsync(new GetServerKeyRequest(), Auth(TestTenants.TenantA))).PublicKeyPem
            : (await ca.GetCheckpointKeyAsync(new GetCheckpointKeyRequest(), Auth(TestTenants.TenantA))).PublicKeyPem;

        WithToken(session =>
        {
            var attributes = session.Factories.ObjectAttributeFactory;
            var label = $"keyward:{TestTenants.TenantA}:{purpose}";
            var privateKey = Assert.Single(session.FindAllObjects([attributes.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY), attributes.Create(CKA.CKA_LABEL, label)]));
            var flags = session.GetAttributeValue(privateKey, [CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE, CKA.CKA_SIGN, CKA.CKA_DECRYPT, CKA.CKA_UNWRAP, CKA.CKA_DERIVE, CKA.CKA_TOKEN]);
            Assert.True(flags[0].GetValueAsBool(), "CKA_SENSITIVE");
            Assert.False(flags[1].GetValueAsBool(), "CKA_EXTRACTABLE");
            Assert.True(flags[2].GetValueAsBool(), "CKA_SIGN");
            Assert.False(flags[3].GetValueAsBool(), "CKA_DECRYPT");
            Assert.False(flags[4].GetValueAsBool(), "CKA_UNWRAP");
            Assert.False(flags[5].GetValueAsBool(), "CKA_DERIVE");
            Assert.True(flags[6].GetValueAsBool(), "CKA_TOKEN");

            var secret = purpose == "ca" ? CKA.CKA_PRIVATE_EXPONENT : CKA.CKA_VALUE;
            AssertUnreadable(session, privateKey, secret);
            AssertUnreadable(session, privateKey, purpose == "ca" ? CKA.CKA_PRIME_1 : CKA.CKA_VALUE);

            var publicKey = Assert.Single(session.FindAllObjects([attributes.Create(CKA.CKA_CLASS, CKO.CKO_PUBLIC_KEY), attributes.Create(CKA.CKA_LABEL, label)]));
            if (purpose == "ca")
            {
                var modulus = session.GetAttributeValue(publicKey, [CKA.CKA_MODULUS])[0].GetValueAsByteArray();
                using var rsa = RSA.Create();
                rsa.ImportFromPem(served);
                Assert.Equal(modulus, rsa.ExportParameters(false).Modulus);
            }
        });
    }

    private static readonly string LabOrigin = $"keyward.local/{TestTenants.TenantD}/keys";

    private static (TreeHead Head, MemoryNodes Nodes) Tree(int size, int forkAt = -1)
    {
        var nodes = new MemoryNodes();
        var tree = new CompactRange();
        for (var i = 0; i < size; i++)
        {
            tree.Append(MerkleHash.Leaf(System.Text.Encoding.UTF8.GetBytes(i == forkAt ? "forged" : $"leaf {i}")), (n, h) => nodes.All[n] = h);
        }

        return (new TreeHead(LabOrigin, size, tree.Root()), nodes);
    }

    private static SignTreeHeadRequest Request(TreeHead head, IEnumerable<byte[]>? proof = null)
    {
        var request = new SignTreeHeadRequest { Checkpoint = head.ToBody() };
        request.ConsistencyProof.AddRange((proof ?? []).Select(Google.Protobuf.ByteString.CopyFrom));
        return request;
    }

    /// <summary>
    /// A database writer who controls the audit service's tables, playing the audit service (it holds the service
    /// identity): the CA signs only well-formed checkpoints of the caller's tenant, and never a tree that shrinks,
    /// forks or does not extend the one it signed last. Its signature verifies with the served log key.
    /// </summary>
    [Fact]
    public async Task The_CA_signs_a_growing_log_and_refuses_a_shrunk_forked_or_foreign_tree_head()
    {
        var ca = Ca(TestTenants.TenantD);
        var service = new Grpc.Core.Metadata { { "authorization", $"Bearer {system.Tenants.ServiceToken(TestTenants.TenantD)}" } };
        var latest = await ca.GetLatestTreeHeadAsync(new GetLatestTreeHeadRequest { Origin = LabOrigin }, service);
        Assert.True(latest.Size == 0, "the lab tenant's keys log must be fresh (scripts/test starts from an empty database)");

        var (five, _) = Tree(5);
        var signed = await ca.SignTreeHeadAsync(Request(five), service);
        var key = await ca.GetCheckpointKeyAsync(new GetCheckpointKeyRequest(), Auth(TestTenants.TenantD));
        var verified = new CheckpointPolicy(LabOrigin, EcdsaNoteVerifier.FromPem(LabOrigin, key.PublicKeyPem)).Verify(signed.SignedNote);
        Assert.True(verified.IsValid, verified.Problem);
        Assert.Equal(key.KeyId, signed.KeyFingerprint);

        async Task<RpcException> Refused(SignTreeHeadRequest request, Grpc.Core.Metadata? headers = null) =>
            await Assert.ThrowsAsync<RpcException>(async () => await ca.SignTreeHeadAsync(request, headers ?? service));

        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(Request(Tree(3).Head))).StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(Request(Tree(5, forkAt: 2).Head))).StatusCode);
        var (forked, forkedNodes) = Tree(8, forkAt: 1);
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(Request(forked, await MerkleProofs.ConsistencyAsync(forkedNodes, 5, 8, default)))).StatusCode);
        var (eight, eightNodes) = Tree(8);
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(Request(eight))).StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, (await Refused(new SignTreeHeadRequest { Checkpoint = "keyward checkpoint v1\ntenant-d\n42\nabcdef\n" })).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await Refused(Request(new TreeHead($"keyward.local/{TestTenants.TenantA}/keys", 9, eight.RootHash)))).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await Refused(Request(eight), Auth(TestTenants.TenantD, "user,admin"))).StatusCode);

        var grown = await ca.SignTreeHeadAsync(Request(eight, await MerkleProofs.ConsistencyAsync(eightNodes, 5, 8, default)), service);
        Assert.StartsWith(eight.ToBody(), grown.SignedNote);
        Assert.Equal(8, (await ca.GetLatestTreeHeadAsync(new GetLatestTreeHeadRequest { Origin = LabOrigin }, service)).Size);
    }

    [Fact]
    public async Task A_user_cannot_have_a_certificate_issued_for_someone_else()
    {
        var ca = Ca(TestTenants.TenantA);
        using var key = RSA.Create(2048);
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=victim", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await ca.SignUserCsrAsync(new SignUserCsrRequest { CsrPem = csr, UserId = "victim" }, Auth(TestTenants.TenantA)));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
    }

    private void WithToken(Action<ISession> work)
    {
        NativeEnvironment.Set("SOFTHSM2_CONF", system.Stack.SoftHsmConf);
        var factories = new Pkcs11InteropFactories();
        using var library = factories.Pkcs11LibraryFactory.LoadPkcs11Library(factories, system.Stack.HsmModule, AppType.MultiThreaded);
        var slot = library.GetSlotList(SlotsType.WithTokenPresent).Single(s => s.GetTokenInfo().Label.Trim() == system.Stack.HsmToken);
        using var session = slot.OpenSession(SessionType.ReadOnly);
        session.Login(CKU.CKU_USER, system.Stack.HsmPin);
        try
        {
            work(session);
        }
        finally
        {
            session.Logout();
        }
    }

    private static void AssertUnreadable(ISession session, IObjectHandle key, CKA attribute)
    {
        try
        {
            var value = session.GetAttributeValue(key, [attribute])[0];
            Assert.True(value.CannotBeRead, $"{attribute} was readable");
        }
        catch (Pkcs11Exception e)
        {
            Assert.Equal(CKR.CKR_ATTRIBUTE_SENSITIVE, e.RV);
        }
    }
}
