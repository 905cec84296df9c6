using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Keyward.Bench.Faults;

/// <summary>What a load saw: requests sent, the subjects whose action was acknowledged, the answers, and the 5xx that are not outages.</summary>
public sealed record LoadOutcome(long Sent, IReadOnlyCollection<string> Acknowledged, IReadOnlyDictionary<int, int> Statuses)
{
    public int Defects => Statuses.Where(s => s.Key >= 500 && s.Key is not (503 or 504)).Sum(s => s.Value);

    public string StatusSummary => string.Join(", ", Statuses.OrderBy(s => s.Key).Select(s => $"{(s.Key == 0 ? "no answer" : s.Key.ToString(System.Globalization.CultureInfo.InvariantCulture))} × {s.Value}"));
}

/// <summary>
/// A steady, bounded load of audited actions, one new subject per request, until stopped: the drill compares what it
/// acknowledged with what the audit log holds. Each worker waits for its answer before the next request, and the
/// workers together send at most <see cref="PerSecond"/> requests a second (a drill measures recovery, not capacity).
/// </summary>
public abstract class DrillLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<(string Subject, DateTime At)> _acknowledged = new();
    private readonly ConcurrentDictionary<int, int> _statuses = new();
    private readonly ConcurrentQueue<DateTime> _failedAt = new();
    private readonly List<Task> _workers = [];
    private long _sent;

    public const int PerSecond = 200;

    protected void Begin(BenchSystem system, string prefix, int workers)
    {
        var interval = TimeSpan.FromSeconds((double)workers / PerSecond);
        for (var w = 0; w < workers; w++)
        {
            var worker = w;
            _workers.Add(Task.Run(async () =>
            {
                // One client per gateway replica, taken in turn, as a load balancer in front of them would.
                var gateways = system.GatewayPorts.Select(system.Anonymous).ToList();
                for (var i = 0; !_stop.IsCancellationRequested; i++)
                {
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    var subject = $"{prefix}-{worker}-{i}";
                    Interlocked.Increment(ref _sent);
                    var status = await SendAsync(system, subject, gateways, i);
                    _statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                    if (status is >= 200 and < 300)
                    {
                        _acknowledged.Enqueue((subject, DateTime.UtcNow));
                    }
                    else
                    {
                        _failedAt.Enqueue(DateTime.UtcNow);
                    }

                    var rest = interval - System.Diagnostics.Stopwatch.GetElapsedTime(started);
                    if (rest > TimeSpan.Zero)
                    {
                        await Task.Delay(rest);
                    }
                }

                gateways.ForEach(g => g.Dispose());
            }));
        }
    }

    /// <summary>
    /// One request; its status, or 0 for no answer. A gateway that refuses the connection is passed over for the next
    /// one (the request never left, so sending it again is safe), as a balancer does; an answer lost mid-way is not retried.
    /// </summary>
    private async Task<int> SendAsync(BenchSystem system, string subject, List<HttpClient> gateways, int turn)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = Request(system, subject);
            try
            {
                using var response = await gateways[(turn + attempt) % gateways.Count].SendAsync(request);
                return (int)response.StatusCode;
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError && attempt + 1 < gateways.Count)
            {
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return 0;
            }
        }
    }

    /// <summary>How long after <paramref name="since"/> the last answer other than 2xx came (zero if none did).</summary>
    public TimeSpan LastFailureAfter(DateTime since) => _failedAt.Where(f => f >= since).Select(f => f - since).DefaultIfEmpty(TimeSpan.Zero).Max();

    protected abstract HttpRequestMessage Request(BenchSystem system, string subject);

    /// <summary>How long after <paramref name="since"/> the first acknowledged action came, or null within the timeout.</summary>
    public async Task<TimeSpan?> WaitForSuccessAfterAsync(DateTime since, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_acknowledged.Where(a => a.At >= since).Select(a => (DateTime?)a.At).Min() is { } first)
            {
                return first - since;
            }

            await Task.Delay(20);
        }

        return null;
    }

    /// <summary>The subjects acknowledged until now.</summary>
    public IReadOnlyCollection<string> AcknowledgedSoFar() => _acknowledged.Select(a => a.Subject).ToList();

    /// <summary>The subjects acknowledged before <paramref name="moment"/>.</summary>
    public IEnumerable<string> AcknowledgedBefore(DateTime moment) => _acknowledged.Where(a => a.At < moment).Select(a => a.Subject);

    public async Task<LoadOutcome> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
        return new LoadOutcome(Interlocked.Read(ref _sent), _acknowledged.Select(a => a.Subject).ToList(), new Dictionary<int, int>(_statuses));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }
}

/// <summary>Each request stores a new user's wrapped private key (audited as keys.private_key.stored, actor = the user).</summary>
public sealed class PrivateKeyStores : DrillLoad
{
    private static readonly string Blob = $"{Convert.ToBase64String(new byte[48])}|{Convert.ToBase64String(new byte[12])}|{Convert.ToBase64String(new byte[40])}";

    public static PrivateKeyStores Start(BenchSystem system, string prefix, int workers)
    {
        var load = new PrivateKeyStores();
        load.Begin(system, prefix, workers);
        return load;
    }

    protected override HttpRequestMessage Request(BenchSystem system, string subject) =>
        Authorized(system, subject, HttpMethod.Post, "private-key", new FormUrlEncodedContent(new Dictionary<string, string> { ["privateKey"] = Blob }));

    internal static HttpRequestMessage Authorized(BenchSystem system, string user, HttpMethod method, string endpoint, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, $"{OcsFolderCalls.Api}{endpoint}") { Content = content };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", system.Token(user));
        request.Headers.Add("X-E2EE-SUPPORTED", "true");
        request.Headers.Add("OCS-APIRequest", "true");
        request.Headers.Accept.ParseAdd("application/json");
        return request;
    }
}

/// <summary>Each request has a certificate signed for a new user by the HSM (audited as ca.certificate.signed, target = the user).</summary>
public sealed class CertificateRequests : DrillLoad
{
    // One client key for every CSR: key generation is the client's cost, not the drill's.
    private readonly RSA _clientKey = RSA.Create(2048);

    public static CertificateRequests Start(BenchSystem system, string prefix, int workers)
    {
        var load = new CertificateRequests();
        load.Begin(system, prefix, workers);
        return load;
    }

    protected override HttpRequestMessage Request(BenchSystem system, string subject)
    {
        var csr = new CertificateRequest($"CN={subject}", _clientKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        return PrivateKeyStores.Authorized(system, subject, HttpMethod.Post, "public-key", new FormUrlEncodedContent(new Dictionary<string, string> { ["csr"] = csr }));
    }
}

/// <summary>Tokens the access matrix needs beyond the dev tenant's.</summary>
public static class Tokens
{
    public static string Sign(RSA key, string issuer, string tenant, string user) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = issuer,
        Audience = "keyward",
        Claims = new Dictionary<string, object> { ["sub"] = user, ["tenant"] = tenant, ["roles"] = new[] { "user" } },
        Expires = DateTime.UtcNow.AddHours(1),
        SigningCredentials = new SigningCredentials(new RsaSecurityKey(key), SecurityAlgorithms.RsaSha256),
    });

    /// <summary>A token with no signature at all (alg "none"), claiming a user of <paramref name="tenant"/>.</summary>
    public static string Unsigned(string issuer, string tenant, string user)
    {
        static string Part(string json) => Base64UrlEncoder.Encode(System.Text.Encoding.UTF8.GetBytes(json));
        var expires = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        return $"{Part("""{"alg":"none","typ":"JWT"}""")}.{Part($$"""{"iss":"{{issuer}}","aud":"keyward","sub":"{{user}}","tenant":"{{tenant}}","roles":["user"],"exp":{{expires}}}""")}.";
    }
}
