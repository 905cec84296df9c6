using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Keyward.Bench;

/// <summary>
/// P1: certificates issued per second through the gateway (OCS POST public-key: CSR → certificate stored)
/// next to raw PKCS#11 RSA-2048 SHA256-RSA-PKCS signatures per second on the same SoftHSM token, with as many
/// threads as the machine has cores.
/// </summary>
public static class CertificateIssuance
{
    static CertificateIssuance()
    {
        NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, (name, _, _) => name == "libdl" ? NativeLibrary.Load("libdl.so.2") : IntPtr.Zero);
    }

    public static async Task<BenchFigure> RunAsync(StackEnvironment stack, BenchSystem system, int certificates)
    {
        var raw = RawSignRate(stack, TimeSpan.FromSeconds(3));
        Console.WriteLine($"P1: raw PKCS#11 RSA-2048 signatures: {raw:N0}/s ({Environment.ProcessorCount} threads)");

        // One client key for every CSR: key generation is the client's cost, not the server's.
        using var clientKey = RSA.Create(2048);
        var run = Guid.NewGuid().ToString("N")[..8];
        var users = Enumerable.Range(0, certificates).Select(i => $"p1-{run}-{i}").ToList();
        var csrs = users.ToDictionary(u => u, u => new CertificateRequest($"CN={u}", clientKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem());
        var clients = users.ToDictionary(u => u, system.Http);
        await Issue(users.Take(20).ToList()); // warm-up: JIT, connection pools, the tenant key

        var measured = users.Skip(20).ToList();
        var stopwatch = Stopwatch.StartNew();
        await Issue(measured);
        var rate = measured.Count / stopwatch.Elapsed.TotalSeconds;
        Console.WriteLine($"    certificates issued through the gateway: {rate:N0}/s");
        foreach (var client in clients.Values)
        {
            client.Dispose();
        }

        return new BenchFigure("P1", "certificates issued through the gateway (CSR → certificate)", "certificates/s", rate,
            "raw PKCS#11 RSA-2048 signatures on the same token", raw, $"{measured.Count} certificates, 8 concurrent clients");

        async Task Issue(List<string> batch) => await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (user, ct) =>
        {
            using var response = await clients[user].PostAsync("/ocs/v2.php/apps/end_to_end_encryption/api/v2/public-key",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["csr"] = csrs[user] }), ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"issuing for {user}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
        });
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);

    private static double RawSignRate(StackEnvironment stack, TimeSpan duration)
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
        login.GenerateKeyPair(login.Factories.MechanismFactory.Create(CKM.CKM_RSA_PKCS_KEY_PAIR_GEN),
            [attributes.Create(CKA.CKA_TOKEN, false), attributes.Create(CKA.CKA_VERIFY, true), attributes.Create(CKA.CKA_MODULUS_BITS, 2048UL), attributes.Create(CKA.CKA_PUBLIC_EXPONENT, new byte[] { 1, 0, 1 })],
            [attributes.Create(CKA.CKA_TOKEN, false), attributes.Create(CKA.CKA_PRIVATE, true), attributes.Create(CKA.CKA_SENSITIVE, true), attributes.Create(CKA.CKA_SIGN, true)],
            out _, out var privateKey);
        var data = RandomNumberGenerator.GetBytes(600); // about a certificate's to-be-signed part
        long count = 0;
        var stopwatch = Stopwatch.StartNew();
        Parallel.For(0, Environment.ProcessorCount, _ =>
        {
            using var session = slot.OpenSession(SessionType.ReadOnly);
            var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_SHA256_RSA_PKCS);
            while (stopwatch.Elapsed < duration)
            {
                session.Sign(mechanism, privateKey, data);
                Interlocked.Increment(ref count);
            }
        });
        return count / stopwatch.Elapsed.TotalSeconds;
    }
}
