using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Keyward.Tests.Shared;

/// <summary>
/// The malformed-request flood, shared by the test (short form) and the fault drills (long form): requests the OCS
/// edge must survive — wrong methods, junk and huge bodies, NUL bytes, broken JSON and base64, bad percent-encoding,
/// oversized headers, lying E2EE headers, signed in and not — and what the edge answered to each.
/// </summary>
public static class MalformedRequests
{
    /// <summary>What came back: how many of each status, and each request that got a 5xx or no answer at all.</summary>
    public sealed record Outcome(IReadOnlyDictionary<int, int> Statuses, IReadOnlyList<string> Failures)
    {
        public int Answered => Statuses.Where(s => s.Key > 0).Sum(s => s.Value);

        public string Summary => string.Join(", ", Statuses.OrderBy(s => s.Key).Select(s => $"{(s.Key == 0 ? "no answer" : s.Key.ToString(System.Globalization.CultureInfo.InvariantCulture))} × {s.Value}"));
    }

    /// <summary>Sends <paramref name="count"/> malformed requests to the gateway over <paramref name="clients"/> connections at once.</summary>
    public static async Task<Outcome> FloodAsync(Uri gateway, string token, int count, int clients)
    {
        var statuses = new ConcurrentDictionary<int, int>();
        var failures = new ConcurrentQueue<string>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var (request, what) = Build(new Random(i), i, token);
                using (request)
                {
                    var status = await SendAsync(http, gateway.Port, request);
                    statuses.AddOrUpdate(status ?? 0, 1, (_, n) => n + 1);
                    if (status is null or >= 500)
                    {
                        failures.Enqueue($"#{i} {what}: {(status is null ? "no answer" : status.ToString())}");
                    }
                }
            }
        }));
        return new Outcome(statuses, failures.ToList());
    }

    /// <summary>The status of the answer, or null when the connection closed without one.</summary>
    private static async Task<int?> SendAsync(HttpClient http, int port, HttpRequestMessage request)
    {
        if (request.Content is { Headers.ContentLength: > HugeBody })
        {
            // HttpClient reports a body the server refused mid-upload as a failed send, answer or not: a raw
            // connection shows whether an answer came.
            return await RawStatusAsync(port, request);
        }

        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await response.Content.ReadAsByteArrayAsync();
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private const long HugeBody = 512 * 1024;

    /// <summary>
    /// Sends the request on a connection of its own, the body written while the answer is read; the status code of the
    /// answer, or null if the connection closed without one.
    /// </summary>
    private static async Task<int?> RawStatusAsync(int port, HttpRequestMessage request)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        var body = await request.Content!.ReadAsByteArrayAsync();
        var head = new StringBuilder($"{request.Method} {request.RequestUri} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {body.Length}\r\n");
        foreach (var header in request.Headers.Concat(request.Content.Headers).Where(h => h.Key != "Content-Length"))
        {
            head.Append($"{header.Key}: {string.Join(", ", header.Value)}\r\n");
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()));
        var upload = Task.Run(async () =>
        {
            try
            {
                await stream.WriteAsync(body);
            }
            catch (IOException)
            {
                // The server answered and closed before taking the whole body: what this drill allows.
            }
        });
        var buffer = new byte[64];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (read < 12 && await stream.ReadAsync(buffer.AsMemory(read), timeout.Token) is var n and > 0)
            {
                read += n;
            }
        }
        catch (IOException)
        {
        }

        await Task.WhenAny(upload, Task.Delay(TimeSpan.FromSeconds(5)));
        // "HTTP/1.1 413 …"
        return read >= 12 && int.TryParse(Encoding.ASCII.GetString(buffer, 9, 3), out var status) ? status : null;
    }

    private static readonly string[] Endpoints =
    [
        "private-key", "public-key", "server-key", "encrypted/{id}", "encrypted-files", "meta-data/{id}", "meta-data/{id}/filedrop", "lock/{id}",
    ];

    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND", "TRACE"];


    /// <summary>One malformed request, chosen by <paramref name="random"/> (seeded by its number: a failure can be replayed).</summary>
    public static (HttpRequestMessage Request, string What) Build(Random random, int number, string token)
    {
        var entry = random.Next(2) == 0 ? "/ocs/v2.php" : "/ocs/v1.php";
        var endpoint = Endpoints[random.Next(Endpoints.Length)].Replace("{id}", FolderId(random));
        var method = random.Next(3) == 0 ? Methods[random.Next(Methods.Length)] : Endpoint(endpoint);
        var path = $"{entry}/apps/end_to_end_encryption/api/v{1 + random.Next(2)}/{endpoint}";
        var kind = random.Next(10);
        string what;
        HttpContent? content = null;
        switch (kind)
        {
            case 0:
                what = "junk body";
                content = new ByteArrayContent(Bytes(random, random.Next(1, 4096)));
                content.Headers.TryAddWithoutValidation("Content-Type", random.Next(2) == 0 ? "application/x-www-form-urlencoded" : "application/json");
                break;
            case 1:
                what = "huge form body";
                content = new StringContent("metaData=" + new string('A', 1_000_000 + random.Next(3_000_000)), Encoding.ASCII, "application/x-www-form-urlencoded");
                break;
            case 2:
                what = "NUL bytes in a parameter";
                content = new FormUrlEncodedContent(new Dictionary<string, string> { ["privateKey"] = "a\0b\0c", ["csr"] = "\0", ["metaData"] = "{\"a\":\"\0\"}", ["e2e-token"] = "\0" });
                break;
            case 3:
                what = "bad JSON";
                content = new StringContent(new[] { "{", "{\"metaData\":", "[1,2", "{\"metaData\":{\"version\":\"2.0\",\"users\":7}}", "\"\\ud800\"", "{\"a\":1}}" }[random.Next(6)], Encoding.UTF8, "application/json");
                break;
            case 4:
                what = "bad base64";
                content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["privateKey"] = "!!!|%%%|***", ["csr"] = "-----BEGIN CERTIFICATE REQUEST-----\n@@@@\n-----END CERTIFICATE REQUEST-----",
                    ["publicKey"] = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----",
                    ["metaData"] = "{\"version\":\"2.0\",\"metadata\":{\"ciphertext\":\"%%%\",\"nonce\":\"?\",\"authenticationTag\":\"*\"},\"users\":[],\"filedrop\":{}}",
                });
                break;
            case 5:
                what = "bad percent-encoding";
                path += "?users=%E0%A4%A&shareToken=%ZZ&abort=%00";
                break;
            case 6:
                what = "oversized header";
                break;
            case 7:
                what = "wrong or no content type";
                content = new ByteArrayContent(Encoding.UTF8.GetBytes("privateKey=abc"));
                content.Headers.TryAddWithoutValidation("Content-Type", new[] { "multipart/form-data; boundary=", "text/plain", "application/json; charset=ebcdic", "x/y" }[random.Next(4)]);
                break;
            case 8:
                what = "lying counter and signature headers";
                break;
            default:
                what = "query junk";
                path += "?users=" + Uri.EscapeDataString(new string('[', random.Next(1, 500))) + "&counter=-1&e2e-token=" + new string('x', 5_000);
                break;
        }

        var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method is "GET" or "HEAD" or "TRACE" ? null : content };
        if (method is "GET" or "HEAD" or "TRACE")
        {
            content?.Dispose();
        }

        request.Headers.TryAddWithoutValidation("OCS-APIRequest", "true");
        if (random.Next(5) != 0)
        {
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
            request.Headers.TryAddWithoutValidation("X-E2EE-SUPPORTED", "true");
        }

        if (kind == 6)
        {
            request.Headers.TryAddWithoutValidation("X-Junk", new string('j', 40_000 + random.Next(40_000)));
        }

        if (kind == 8)
        {
            request.Headers.TryAddWithoutValidation("X-NC-E2EE-COUNTER", new[] { "-1", "99999999999999999999", "abc", "" }[random.Next(4)]);
            request.Headers.TryAddWithoutValidation("X-NC-E2EE-SIGNATURE", new[] { "a\r\nb", "%%%", new string('Q', 100_000) }[random.Next(3)]);
            request.Headers.TryAddWithoutValidation("e2e-token", new string('~', 10_000));
        }

        return (request, $"{method} {path.Split('?')[0]} ({what}, seed {number})");
    }

    private static string Endpoint(string endpoint) => endpoint switch
    {
        "server-key" => "GET",
        "encrypted-files" => "DELETE",
        _ when endpoint.StartsWith("lock/", StringComparison.Ordinal) => "POST",
        _ when endpoint.StartsWith("meta-data/", StringComparison.Ordinal) => "PUT",
        _ when endpoint.StartsWith("encrypted/", StringComparison.Ordinal) => "PUT",
        _ => "POST",
    };

    private static string FolderId(Random random) => random.Next(6) switch
    {
        0 => "",
        1 => "..%2F..%2Fetc",
        2 => new string('9', 200),
        3 => "%00",
        _ => random.NextInt64(1, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
