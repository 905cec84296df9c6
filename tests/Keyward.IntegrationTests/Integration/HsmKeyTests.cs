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

    [Fact]
    public async Task A_checkpoint_signature_verifies_with_the_served_checkpoint_key()
    {
        var ca = Ca(TestTenants.TenantB);
        var checkpoint = "keyward checkpoint v1\ntenant-b\n42\nabcdef\n"u8.ToArray();

        var service = new Grpc.Core.Metadata { { "authorization", $"Bearer {system.Tenants.ServiceToken(TestTenants.TenantB)}" } };
        var signed = await ca.SignCheckpointAsync(new SignCheckpointRequest { Checkpoint = Google.Protobuf.ByteString.CopyFrom(checkpoint) }, service);
        var key = await ca.GetCheckpointKeyAsync(new GetCheckpointKeyRequest(), Auth(TestTenants.TenantB));

        using var ec = ECDsa.Create();
        ec.ImportFromPem(key.PublicKeyPem);
        Assert.Equal("ecdsa-p256-sha256", signed.Algorithm);
        Assert.Equal(key.KeyId, signed.KeyId);
        Assert.True(ec.VerifyData(checkpoint, signed.Signature.ToByteArray(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public async Task Only_a_service_may_have_checkpoints_signed_and_a_tenant_cannot_claim_to_be_one()
    {
        var ca = Ca(TestTenants.TenantB);
        var claimed = await Assert.ThrowsAsync<RpcException>(async () =>
            await ca.SignCheckpointAsync(new SignCheckpointRequest { Checkpoint = Google.Protobuf.ByteString.CopyFromUtf8("x") }, Auth(TestTenants.TenantB, "user,service")));
        Assert.Equal(StatusCode.PermissionDenied, claimed.StatusCode);

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await ca.SignCheckpointAsync(new SignCheckpointRequest { Checkpoint = Google.Protobuf.ByteString.CopyFromUtf8("x") }, Auth(TestTenants.TenantB, "user,admin")));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
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
