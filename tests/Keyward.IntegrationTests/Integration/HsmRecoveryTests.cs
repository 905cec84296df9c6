using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Keyward.CertificateAuthority.V1;
using Keyward.IntegrationTests.Infrastructure;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.IntegrationTests.Integration;

/// <summary>A certificate authority whose HSM token is not there yet: UNAVAILABLE and not ready, then ready by itself once it is.</summary>
[Collection(SystemCollection.Name)]
public sealed class HsmRecoveryTests(KeywardSystem system)
{
    [Fact]
    public async Task Without_its_HSM_the_CA_answers_UNAVAILABLE_and_is_not_ready_then_recovers_by_itself()
    {
        var directory = Directory.CreateTempSubdirectory("keyward-hsm-");
        var conf = Path.Combine(directory.FullName, "softhsm2.conf");
        Directory.CreateDirectory(Path.Combine(directory.FullName, "tokens"));
        await File.WriteAllTextAsync(conf, $"directories.tokendir = {directory.FullName}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n");
        var label = $"recovery-{Guid.NewGuid():N}"[..24];
        await using var ca = system.StartExtra("certificate-authority", "ca-without-hsm", new Dictionary<string, string>
        {
            ["SOFTHSM2_CONF"] = conf,
            ["Keyward__Hsm__TokenLabel"] = label,
            ["Keyward__Hsm__Pin"] = "1234",
        });
        try
        {
            await WaitAsync(async () => await HttpStatusAsync(ca, "/healthz") == 200, "the CA process to come up");
            Assert.Equal(503, await HttpStatusAsync(ca, "/readyz"));
            var client = new CaClient(GrpcChannel.ForAddress(ca.GrpcAddress));
            var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {system.Tenants.Token("ops", tenant: TestTenants.TenantA)}" } };
            var unavailable = await Assert.ThrowsAsync<RpcException>(async () => await client.GetServerKeyAsync(new GetServerKeyRequest(), headers));
            Assert.Equal(StatusCode.Unavailable, unavailable.StatusCode);

            // The HSM arrives: the token is initialised while the CA keeps running.
            var init = Process.Start(new ProcessStartInfo("softhsm2-util", ["--init-token", "--free", "--label", label, "--so-pin", "5678", "--pin", "1234"])
            {
                Environment = { ["SOFTHSM2_CONF"] = conf },
                RedirectStandardOutput = true,
            })!;
            await init.WaitForExitAsync();
            Assert.Equal(0, init.ExitCode);

            await WaitAsync(async () => await HttpStatusAsync(ca, "/readyz") == 200, "the CA to become ready once its HSM is there");
            var key = await client.GetServerKeyAsync(new GetServerKeyRequest(), headers);
            Assert.StartsWith("-----BEGIN PUBLIC KEY-----", key.PublicKeyPem);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
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
}
