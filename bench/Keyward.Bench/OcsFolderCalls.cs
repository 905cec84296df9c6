using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace Keyward.Bench;

/// <summary>The OCS calls the metadata benchmarks make as a Nextcloud client: a certificate, a signed document, a lock → PUT → unlock cycle.</summary>
public static class OcsFolderCalls
{
    public const string Api = "/ocs/v2.php/apps/end_to_end_encryption/api/v2/";

    /// <summary>Has the tenant CA issue <paramref name="user"/> a certificate for <paramref name="key"/>; returns its PEM.</summary>
    public static async Task<string> EnrollAsync(HttpClient http, string user, RSA key)
    {
        var csr = new CertificateRequest($"CN={user}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        using var issued = await http.PostAsync($"{Api}public-key", new FormUrlEncodedContent(new Dictionary<string, string> { ["csr"] = csr }));
        issued.EnsureSuccessStatusCode();
        return JsonNode.Parse(await issued.Content.ReadAsStringAsync())!["ocs"]!["data"]!["public-key"]!.GetValue<string>();
    }

    /// <summary>A root folder's v2 document listing only <paramref name="user"/>, and its signature by the user (the server checks it).</summary>
    public static (string Metadata, string Signature) SignedRoot(string user, string certificate, RSA key, string ciphertext, string nonce, string tag, string wrappedKey)
    {
        var metadata = new JsonObject
        {
            ["metadata"] = new JsonObject { ["ciphertext"] = ciphertext, ["nonce"] = nonce, ["authenticationTag"] = tag },
            ["users"] = new JsonArray(new JsonObject { ["userId"] = user, ["certificate"] = certificate, ["encryptedMetadataKey"] = wrappedKey }),
            ["version"] = "2.0",
        }.ToJsonString();
        return (metadata, Keyward.Client.MetadataV2.Sign(metadata, key, certificate));
    }

    /// <summary>Marks a new folder id encrypted.</summary>
    public static async Task<string> RegisterAsync(HttpClient http)
    {
        var id = Random.Shared.NextInt64(1_000_000_000, long.MaxValue).ToString();
        (await http.PutAsync($"{Api}encrypted/{id}", null)).EnsureSuccessStatusCode();
        return id;
    }

    /// <summary>One lock → PUT (POST when creating) → unlock cycle; returns the milliseconds of each of the three calls.</summary>
    public static async Task<double[]> CycleAsync(HttpClient http, string id, long counter, string metadata, string signature, bool create)
    {
        var clock = Stopwatch.StartNew();
        using var lockRequest = new HttpRequestMessage(HttpMethod.Post, $"{Api}lock/{id}");
        lockRequest.Headers.Add("X-NC-E2EE-COUNTER", counter.ToString());
        using var locked = await http.SendAsync(lockRequest);
        locked.EnsureSuccessStatusCode();
        var token = JsonNode.Parse(await locked.Content.ReadAsStringAsync())!["ocs"]!["data"]!["e2e-token"]!.GetValue<string>();
        var lockMs = clock.Elapsed.TotalMilliseconds;
        using var write = new HttpRequestMessage(create ? HttpMethod.Post : HttpMethod.Put, $"{Api}meta-data/{id}")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["metaData"] = metadata }),
        };
        write.Headers.Add("e2e-token", token);
        write.Headers.Add("X-NC-E2EE-SIGNATURE", signature);
        using var written = await http.SendAsync(write);
        var putMs = clock.Elapsed.TotalMilliseconds - lockMs;
        using var unlock = new HttpRequestMessage(HttpMethod.Delete, $"{Api}lock/{id}");
        unlock.Headers.Add("e2e-token", token);
        using var unlocked = await http.SendAsync(unlock);
        if (written.StatusCode != HttpStatusCode.OK || unlocked.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"cycle failed: write {(int)written.StatusCode} {await written.Content.ReadAsStringAsync()}, unlock {(int)unlocked.StatusCode}");
        }

        return [lockMs, putMs, clock.Elapsed.TotalMilliseconds - lockMs - putMs];
    }
}
