using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Keyward.Bench;

/// <summary>
/// P1: certificates issued per second through the gateway (OCS POST public-key: CSR → certificate stored)
/// after a warm-up, next to raw PKCS#11 SHA256-RSA-PKCS signatures per second with the tenant's own CA key on the same SoftHSM token, with as many
/// threads as the machine has cores.
/// </summary>
public static class CertificateIssuance
{
    static CertificateIssuance()
    {
        NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, (name, _, _) => name == "libdl" ? NativeLibrary.Load("libdl.so.2") : IntPtr.Zero);
    }

    public static async Task<IReadOnlyList<BenchFigure>> RunAsync(StackEnvironment stack, BenchSystem system, int certificates)
    {
        await WarmAsync(system);
        // The warm-up made the CA create the tenant's key: the reference signs with that very key, on the same
        // token, while the system is quiet (JIT settled, outboxes empty).
        await Task.Delay(TimeSpan.FromSeconds(2)); // the audit service chains the last relayed events
        var (tokenKey, sessionKey) = RawSignRates(stack, TimeSpan.FromSeconds(3));
        Console.WriteLine($"P1: raw PKCS#11 SHA256-RSA-2048 signatures, {Environment.ProcessorCount} threads: {tokenKey:N0}/s with the tenant's CA key (token object), {sessionKey:N0}/s with a session key");
        var measured = await MeasureAsync(stack, system, certificates);

        // A raw signature's CPU: every core was signing, so each took cores / rate.
        var signatureCpuMs = Environment.ProcessorCount * 1000.0 / tokenKey;
        return
        [
            new BenchFigure("P1", "certificates issued through the gateway (CSR → certificate)", "certificates/s", measured.Rate,
                "raw PKCS#11 SHA256-RSA-2048 signatures with the tenant's CA key on the same token", tokenKey,
                $"{certificates} certificates, 8 concurrent clients, after warm-up; {measured.Compiled} methods compiled during the run; a session key signs {sessionKey:N0}/s"),
            new BenchFigure("P1-cpu", "CPU per certificate issued, every process of the stack", "CPU ms/certificate", measured.Cost.CpuMs,
                "CPU of one raw PKCS#11 signature with the same key (all cores signing)", signatureCpuMs, $"{measured.Cost}; target ≤ 3 ms") { Lower = true },
        ];
    }

    /// <summary>P1 on another system (an earlier release, the single-process baseline): warm-up, then the same measurement.</summary>
    public static async Task<Measured> CompareAsync(StackEnvironment stack, BenchSystem system, int certificates)
    {
        await WarmAsync(system);
        return await MeasureAsync(stack, system, certificates);
    }

    private static async Task WarmAsync(BenchSystem system)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var warmupUsers = 0;
        await Warmup.RunAsync(system, "certificate issuance", 8, async _ =>
        {
            var user = $"p1-{run}-w{Interlocked.Increment(ref warmupUsers)}";
            using var http = system.Http(user);
            await IssueAsync(http, user, Csr(user), CancellationToken.None);
        }, system.MaxWarmup);
    }

    private static async Task<Measured> MeasureAsync(StackEnvironment stack, BenchSystem system, int certificates)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var users = Enumerable.Range(0, certificates).Select(i => $"p1-{run}-{i}").ToList();
        var csrs = users.ToDictionary(u => u, Csr);
        var clients = users.ToDictionary(u => u, system.Http);
        var compiledBefore = system.MethodsCompiled();
        var cost = await StackCost.StartAsync(system);
        var stopwatch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (user, ct) => await IssueAsync(clients[user], user, csrs[user], ct));
        var rate = users.Count / stopwatch.Elapsed.TotalSeconds;
        var compiled = system.MethodsCompiled() - compiledBefore;
        var perCertificate = await cost.StopAsync(users.Count);
        Console.WriteLine($"    {system.Label}: certificates issued: {rate:N0}/s ({compiled} methods compiled by the JIT meanwhile)");
        Console.WriteLine($"    per certificate: {perCertificate}");
        foreach (var client in clients.Values)
        {
            client.Dispose();
        }

        return new Measured(rate, perCertificate, compiled);
    }

    // One client key for every CSR: key generation is the client's cost, not the server's.
    private static readonly RSA ClientKey = RSA.Create(2048);

    private static string Csr(string user) =>
        new CertificateRequest($"CN={user}", ClientKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();

    private static async Task IssueAsync(HttpClient http, string user, string csr, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync("/ocs/v2.php/apps/end_to_end_encryption/api/v2/public-key",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["csr"] = csr }), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"issuing for {user}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);

    private static (double TokenKey, double SessionKey) RawSignRates(StackEnvironment stack, TimeSpan duration)
    {
        // SoftHSM reads the C environment, which Environment.SetEnvironmentVariable does not change on Unix.
        setenv("SOFTHSM2_CONF", stack["SOFTHSM2_CONF"], 1);
        var factories = new Pkcs11InteropFactories();
        using var library = factories.Pkcs11LibraryFactory.LoadPkcs11Library(factories, stack["KEYWARD_HSM_MODULE"], AppType.MultiThreaded);
        var slot = library.GetSlotList(SlotsType.WithTokenPresent).Single(s => s.GetTokenInfo().Label.Trim() == stack["KEYWARD_HSM_TOKEN_TEST"]);
        using var login = slot.OpenSession(SessionType.ReadWrite);
        try
        {
            login.Login(CKU.CKU_USER, stack["KEYWARD_HSM_PIN"]);
        }
        catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
        }

        var attributes = login.Factories.ObjectAttributeFactory;
        var caKey = login.FindAllObjects([attributes.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY), attributes.Create(CKA.CKA_LABEL, $"keyward:{stack["KEYWARD_DEV_TENANT"]}:ca")])
            .FirstOrDefault() ?? throw new InvalidOperationException("the tenant's CA key is not in the token");
        login.GenerateKeyPair(login.Factories.MechanismFactory.Create(CKM.CKM_RSA_PKCS_KEY_PAIR_GEN),
            [attributes.Create(CKA.CKA_TOKEN, false), attributes.Create(CKA.CKA_VERIFY, true), attributes.Create(CKA.CKA_MODULUS_BITS, 2048UL), attributes.Create(CKA.CKA_PUBLIC_EXPONENT, new byte[] { 1, 0, 1 })],
            [attributes.Create(CKA.CKA_TOKEN, false), attributes.Create(CKA.CKA_PRIVATE, true), attributes.Create(CKA.CKA_SENSITIVE, true), attributes.Create(CKA.CKA_SIGN, true)],
            out _, out var sessionKey);
        return (Rate(caKey), Rate(sessionKey));

        double Rate(IObjectHandle key)
        {
            var data = RandomNumberGenerator.GetBytes(600); // about a certificate's to-be-signed part
            long count = 0;
            var stopwatch = Stopwatch.StartNew();
            Parallel.For(0, Environment.ProcessorCount, _ =>
            {
                using var session = slot.OpenSession(SessionType.ReadOnly);
                var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_SHA256_RSA_PKCS);
                while (stopwatch.Elapsed < duration)
                {
                    session.Sign(mechanism, key, data);
                    Interlocked.Increment(ref count);
                }
            });
            return count / stopwatch.Elapsed.TotalSeconds;
        }
    }
}
