using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Keyward.Client;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>The folder, metadata and lock calls of a Nextcloud client, for one user (API v2 unless told).</summary>
public sealed class E2eeFolders(OcsClient ocs)
{
    public OcsClient Ocs => ocs;

    /// <summary>
    /// The default signature: the writer signs v2 metadata with a certificate Keyward issued to them, as Nextcloud's
    /// clients do — the server checks it (issue #15). Tests of bad signatures pass their own.
    /// </summary>
    public const string SignedByWriter = "(signed by the writer)";

    private const string UncheckedSignature = "c2lnbmF0dXJl";

    // One key and certificate per user, made on first use.
    private static readonly ConcurrentDictionary<string, Lazy<Task<(RSA Key, string Certificate)>>> Signers = new();

    public static string NewFolderId() => Random.Shared.NextInt64(1_000_000_000, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Metadata(params string[] users) =>
        "{\"metadata\":{\"ciphertext\":\"Q0lQSEVS\",\"nonce\":\"Tk9OQ0U=\",\"authenticationTag\":\"VEFH\"},\"users\":["
        + string.Join(',', users.Select(u => $"{{\"userId\":\"{u}\",\"certificate\":\"-----BEGIN CERTIFICATE-----\",\"encryptedMetadataKey\":\"S0VZ\"}}"))
        + "],\"version\":\"2.0\"}";

    public async Task<string> RegisterAsync(string? parentId = null)
    {
        var id = NewFolderId();
        var reply = await RegisterAsync(id, parentId);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        return id;
    }

    public Task<OcsReply> RegisterAsync(string id, string? parentId) =>
        ocs.SendAsync(HttpMethod.Put, $"encrypted/{id}", parentId is null ? null : new Dictionary<string, string> { ["parentId"] = parentId });

    public Task<OcsReply> UnregisterAsync(string id) => ocs.SendAsync(HttpMethod.Delete, $"encrypted/{id}");

    public Task<OcsReply> LockAsync(string id, long? counter, string? token = null)
    {
        var headers = counter is null ? null : new Dictionary<string, string> { ["X-NC-E2EE-COUNTER"] = counter.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var parameters = token is null ? null : new Dictionary<string, string> { ["e2e-token"] = token };
        return ocs.SendAsync(HttpMethod.Post, $"lock/{id}", parameters, OcsClient.Body.Form, headers);
    }

    public async Task<string> LockedAsync(string id, long counter, string? token = null)
    {
        var reply = await LockAsync(id, counter, token);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        return reply.Data.GetProperty("e2e-token").GetString()!;
    }

    public Task<OcsReply> UnlockAsync(string id, string? token, bool abort = false, bool abortInJsonBody = false)
    {
        var headers = token is null ? null : new Dictionary<string, string> { ["e2e-token"] = token };
        var endpoint = abort && !abortInJsonBody ? $"lock/{id}?abort=true" : $"lock/{id}";
        var body = abortInJsonBody ? new Dictionary<string, string> { ["abort"] = "true" } : null;
        return ocs.SendAsync(HttpMethod.Delete, endpoint, body, OcsClient.Body.Json, headers);
    }

    public async Task<OcsReply> WriteAsync(HttpMethod method, string id, string? token, string? signature, string metadata)
    {
        var headers = new Dictionary<string, string>();
        if (token is not null)
        {
            headers["e2e-token"] = token;
        }

        if (signature == SignedByWriter)
        {
            signature = metadata.Contains("\"version\":\"2.", StringComparison.Ordinal) ? await SignAsync(metadata) : UncheckedSignature;
        }

        if (signature is not null)
        {
            headers["X-NC-E2EE-SIGNATURE"] = signature;
        }

        return await ocs.SendAsync(method, $"meta-data/{id}", new Dictionary<string, string> { ["metaData"] = metadata }, OcsClient.Body.Form, headers);
    }

    /// <summary>X-NC-E2EE-SIGNATURE of the metadata by this client's user.</summary>
    public async Task<string> SignAsync(string metadata)
    {
        var (key, certificate) = await Signers.GetOrAdd($"{ocs.Tenant}/{ocs.User}", _ => new Lazy<Task<(RSA, string)>>(EnrollAsync)).Value;
        return MetadataV2.Sign(metadata, key, certificate);
    }

    private async Task<(RSA, string)> EnrollAsync()
    {
        var key = RSA.Create(2048);
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={ocs.User}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        var issued = await ocs.PostAsync("public-key", new Dictionary<string, string> { ["csr"] = csr });
        Assert.True(issued.Status == HttpStatusCode.OK, $"a certificate for {ocs.User} to sign metadata with: {issued.Text}");
        return (key, issued.Data.GetProperty("public-key").GetString()!);
    }

    public Task<OcsReply> CreateAsync(string id, string? token, string metadata, string? signature = SignedByWriter) => WriteAsync(HttpMethod.Post, id, token, signature, metadata);

    public Task<OcsReply> UpdateAsync(string id, string? token, string metadata, string? signature = SignedByWriter) => WriteAsync(HttpMethod.Put, id, token, signature, metadata);

    public Task<OcsReply> DeleteMetadataAsync(string id, string? token) =>
        ocs.SendAsync(HttpMethod.Delete, $"meta-data/{id}", headers: token is null ? null : new Dictionary<string, string> { ["e2e-token"] = token });

    public Task<OcsReply> GetAsync(string id) => ocs.GetAsync($"meta-data/{id}");

    /// <summary>Creates and commits metadata in one locked cycle; returns the counter used.</summary>
    public async Task CommitAsync(string id, string metadata, long counter, bool create = true, string signature = SignedByWriter)
    {
        var token = await LockedAsync(id, counter);
        var written = create ? await CreateAsync(id, token, metadata, signature) : await UpdateAsync(id, token, metadata, signature);
        Assert.True(written.Status == HttpStatusCode.OK, written.Text);
        var unlocked = await UnlockAsync(id, token);
        Assert.True(unlocked.Status == HttpStatusCode.OK, unlocked.Text);
    }
}
