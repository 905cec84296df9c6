using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Keyward.CertificateAuthority.V1;
using Keyward.IntegrationTests.Infrastructure;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.IntegrationTests.Integration;

/// <summary>
/// A certificate authority whose HSM is not there, or goes away under it: UNAVAILABLE and not ready while it is gone,
/// signing again by itself once it is back, with no restart.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class HsmRecoveryTests(KeywardSystem system)
{
    [Fact]
    public async Task Without_its_HSM_the_CA_answers_UNAVAILABLE_and_is_not_ready_then_recovers_by_itself()
    {
        await using var hsm = await PrivateToken.CreateAsync(initialised: false);
        await using var ca = StartCa(hsm);
        await WaitAsync(async () => await HttpStatusAsync(ca, "/healthz") == 200, "the CA process to come up");
        Assert.Equal(503, await HttpStatusAsync(ca, "/readyz"));
        var client = new CaClient(GrpcChannel.ForAddress(ca.GrpcAddress));
        var unavailable = await Assert.ThrowsAsync<RpcException>(async () => await client.GetServerKeyAsync(new GetServerKeyRequest(), Auth()));
        Assert.Equal(StatusCode.Unavailable, unavailable.StatusCode);

        // The HSM arrives: the token is initialised while the CA keeps running.
        await hsm.InitialiseAsync();

        await WaitAsync(async () => await HttpStatusAsync(ca, "/readyz") == 200, "the CA to become ready once its HSM is there");
        var key = await client.GetServerKeyAsync(new GetServerKeyRequest(), Auth());
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", key.PublicKeyPem);
    }

    /// <summary>
    /// The HSM goes away while the CA holds a logged-in session and the key's object handle (the partition is
    /// unplugged: its token store disappears), then comes back. While it is gone the CA refuses with UNAVAILABLE and
    /// readiness turns red; once it is back the next request signs, within 5 s and without a restart, with the same key.
    /// </summary>
    [Fact]
    public async Task An_HSM_that_goes_away_under_a_running_CA_signs_again_once_it_is_back()
    {
        await using var hsm = await PrivateToken.CreateAsync(initialised: true);
        await using var ca = StartCa(hsm);
        await KeywardSystem.WaitUntilReadyAsync(ca);
        var client = new CaClient(GrpcChannel.ForAddress(ca.GrpcAddress));
        var before = await SignAsync(client);

        hsm.Unplug();
        var refused = await Assert.ThrowsAsync<RpcException>(() => SignAsync(client));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        await WaitAsync(async () => await HttpStatusAsync(ca, "/readyz") == 503, "readiness to report that the CA cannot sign");
        Assert.False(ca.HasExited, "the CA must stay up while its HSM is gone");

        hsm.PlugBackIn();
        var returned = Stopwatch.StartNew();
        X509Certificate2? after = null;
        while (after is null)
        {
            try
            {
                after = await SignAsync(client);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && returned.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100);
            }
        }

        Assert.True(returned.Elapsed < TimeSpan.FromSeconds(5), $"signing came back {returned.Elapsed.TotalSeconds:N1} s after the HSM (goal: within 5 s)");
        Assert.Equal(before.IssuerName.Name, after.IssuerName.Name);
        using var caKey = RSA.Create();
        caKey.ImportFromPem((await client.GetServerKeyAsync(new GetServerKeyRequest(), Auth())).PublicKeyPem);
        Assert.True(VerifiesWith(after, caKey), "the certificate signed after the HSM came back verifies with the CA key served before");
        await WaitAsync(async () => await HttpStatusAsync(ca, "/readyz") == 200, "readiness to turn green again");
    }

    private ServiceProcess StartCa(PrivateToken hsm) => system.StartExtra("certificate-authority", $"ca-{hsm.Label}", new Dictionary<string, string>
    {
        ["SOFTHSM2_CONF"] = hsm.ConfPath,
        ["Keyward__Hsm__TokenLabel"] = hsm.Label,
        ["Keyward__Hsm__Pin"] = PrivateToken.Pin,
    });

    private Grpc.Core.Metadata Auth() => new() { { "authorization", $"Bearer {system.Tenants.Token("hsm-recovery", tenant: TestTenants.TenantA)}" } };

    private async Task<X509Certificate2> SignAsync(CaClient client)
    {
        using var key = RSA.Create(2048);
        var csr = new CertificateRequest("CN=hsm-recovery", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        // Only the keyserver asks the CA to sign, with the service identity, for the user it authenticated.
        var keyserver = new Grpc.Core.Metadata { { "authorization", $"Bearer {system.Tenants.ServiceToken(TestTenants.TenantA)}" } };
        var signed = await client.SignUserCsrAsync(new SignUserCsrRequest { CsrPem = csr, UserId = "hsm-recovery" }, keyserver);
        return X509Certificate2.CreateFromPem(signed.CertificatePem);
    }

    /// <summary>The certificate's signature checked against the issuer key (Certificate ::= SEQUENCE { tbs, algorithm, signature }).</summary>
    private static bool VerifiesWith(X509Certificate2 certificate, RSA issuerKey)
    {
        var certificateSequence = new System.Formats.Asn1.AsnReader(certificate.RawData, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
        var toBeSigned = certificateSequence.ReadEncodedValue().ToArray();
        certificateSequence.ReadSequence();
        var signature = certificateSequence.ReadBitString(out _);
        return issuerKey.VerifyData(toBeSigned, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    private static async Task<int> HttpStatusAsync(ServiceProcess service, string path)
    {
        using var http = new HttpClient { BaseAddress = service.HttpAddress, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            return (int)(await http.GetAsync(path)).StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(250);
        }
    }

    /// <summary>A SoftHSM token store of its own, which a test can initialise, unplug (move away) and plug back in.</summary>
    private sealed class PrivateToken : IAsyncDisposable
    {
        public const string Pin = "1234";
        private readonly DirectoryInfo _directory;

        private PrivateToken(DirectoryInfo directory)
        {
            _directory = directory;
        }

        public string Label { get; } = $"recovery-{Guid.NewGuid():N}"[..24];

        public string ConfPath => Path.Combine(_directory.FullName, "softhsm2.conf");

        private string Tokens => Path.Combine(_directory.FullName, "tokens");

        private string Unplugged => Path.Combine(_directory.FullName, "unplugged");

        public static async Task<PrivateToken> CreateAsync(bool initialised)
        {
            var token = new PrivateToken(Directory.CreateTempSubdirectory("keyward-hsm-"));
            Directory.CreateDirectory(token.Tokens);
            await File.WriteAllTextAsync(token.ConfPath, $"directories.tokendir = {token.Tokens}\nobjectstore.backend = file\nlog.level = ERROR\n");
            if (initialised)
            {
                await token.InitialiseAsync();
            }

            return token;
        }

        public async Task InitialiseAsync()
        {
            var init = Process.Start(new ProcessStartInfo("softhsm2-util", ["--init-token", "--free", "--label", Label, "--so-pin", "5678", "--pin", Pin])
            {
                Environment = { ["SOFTHSM2_CONF"] = ConfPath },
                RedirectStandardOutput = true,
            })!;
            await init.WaitForExitAsync();
            Assert.Equal(0, init.ExitCode);
        }

        public void Unplug() => Directory.Move(Tokens, Unplugged);

        public void PlugBackIn() => Directory.Move(Unplugged, Tokens);

        public ValueTask DisposeAsync()
        {
            _directory.Delete(recursive: true);
            return ValueTask.CompletedTask;
        }
    }
}
