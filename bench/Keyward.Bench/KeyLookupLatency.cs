using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Keyward.Keyserver.V1;

namespace Keyward.Bench;

/// <summary>P4: OCS GET public-key latency through the gateway next to the same lookup by direct gRPC to the keyserver.</summary>
public static class KeyLookupLatency
{
    public static async Task<IReadOnlyList<BenchFigure>> RunAsync(BenchSystem system, int requests = 1000)
    {
        var user = $"p4-{Guid.NewGuid():N}"[..16];
        using var http = system.Http(user);
        using var key = RSA.Create(2048);
        var csr = new CertificateRequest($"CN={user}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        (await http.PostAsync("/ocs/v2.php/apps/end_to_end_encryption/api/v2/public-key", new FormUrlEncodedContent(new Dictionary<string, string> { ["csr"] = csr }))).EnsureSuccessStatusCode();

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{system.Services["keyserver"].GrpcPort}");
        var client = new Keyward.Keyserver.V1.Keyserver.KeyserverClient(channel);
        var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {system.Token(user)}" } };
        async Task ThroughGateway()
        {
            using var response = await http.GetAsync("/ocs/v2.php/apps/end_to_end_encryption/api/v2/public-key");
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
        }

        async Task Direct() => await client.GetCertificatesAsync(new GetCertificatesRequest(), headers);

        await Warmup.RunAsync(system, "key lookup", 1, async _ =>
        {
            await ThroughGateway();
            await Direct();
        }, system.MaxWarmup);

        // Alternated request by request, so both paths meet the same machine state (background work, GC).
        var throughGateway = new List<double>();
        var direct = new List<double>();
        for (var i = 0; i < requests; i++)
        {
            throughGateway.Add(await Timed(ThroughGateway));
            direct.Add(await Timed(Direct));
        }

        var gatewayP50 = Percentiles.Of(throughGateway, 50);
        var directP50 = Percentiles.Of(direct, 50);
        Console.WriteLine($"P4: GET public-key p50 {gatewayP50:N2} ms through the gateway (p99 {Percentiles.Of(throughGateway, 99):N2}); direct gRPC p50 {directP50:N2} ms (p99 {Percentiles.Of(direct, 99):N2})");
        return
        [
            new BenchFigure("P4", "OCS GET public-key latency through the gateway (p50)", "ms", gatewayP50, "the same lookup by direct gRPC to the keyserver (p50)", directP50,
                $"{requests} sequential requests each, alternating, after warm-up; ratio = gateway / direct"),
            new BenchFigure("P4-overhead", "what the gateway adds to OCS GET public-key (p50 through it − p50 direct)", "ms", gatewayP50 - directP50, "target", 0.3,
                "the OCS adapter: token check, the envelope, one gRPC hop") { Lower = true },
        ];
    }

    private static async Task<double> Timed(Func<Task> request)
    {
        var started = Stopwatch.GetTimestamp();
        await request();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }
}
