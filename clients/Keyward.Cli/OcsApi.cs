using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keyward.Cli;

/// <summary>The gateway's Nextcloud E2EE endpoints, as a client calls them; refusals become one-line errors.</summary>
public sealed class OcsApi : IDisposable
{
    private const string Base = "/ocs/v2.php/apps/end_to_end_encryption/api/v2/";
    private readonly HttpClient _http;

    public OcsApi()
    {
        var url = Environment.GetEnvironmentVariable("KEYWARD_GATEWAY_URL");
        var token = Environment.GetEnvironmentVariable("KEYWARD_TOKEN");
        if (string.IsNullOrEmpty(url) || string.IsNullOrEmpty(token))
        {
            throw new CliError("set KEYWARD_GATEWAY_URL (see .stack/gateway.env) and KEYWARD_TOKEN (scripts/token --user NAME)");
        }

        _http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(5) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _http.DefaultRequestHeaders.Add("OCS-APIRequest", "true");
        _http.DefaultRequestHeaders.Accept.ParseAdd("application/json"); // OCS answers XML unless asked for JSON
        _http.DefaultRequestHeaders.Add("X-E2EE-SUPPORTED", "true");
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("keyward-cli/0.1");
        UserId = SubjectOf(token);
    }

    /// <summary>The user id of the token (its <c>sub</c>): who this CLI acts as.</summary>
    public string UserId { get; }

    public async Task<(int Status, JsonNode? Data, string Message, HttpResponseMessage Response)> SendAsync(HttpMethod method, string endpoint,
        IDictionary<string, string>? form = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, Base + endpoint);
        if (form is not null)
        {
            request.Content = new FormUrlEncodedContent(form);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            throw new CliError($"cannot reach the gateway at {_http.BaseAddress}: {e.Message}");
        }

        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body;
        try
        {
            body = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new CliError($"the gateway answered {(int)response.StatusCode} without an OCS body");
        }

        var meta = body?["ocs"]?["meta"];
        var data = body?["ocs"]?["data"];
        var message = (data as JsonObject)?["message"]?.GetValue<string>() is { Length: > 0 } returned ? returned : meta?["message"]?.GetValue<string>() ?? "";
        return ((int)response.StatusCode, data, message, response);
    }

    /// <summary>Sends and insists on 200; anything else is the server's message as an error.</summary>
    public async Task<JsonNode?> OkAsync(HttpMethod method, string endpoint, IDictionary<string, string>? form = null, IDictionary<string, string>? headers = null)
    {
        var (status, data, message, _) = await SendAsync(method, endpoint, form, headers);
        return status == 200 ? data : throw new CliError($"{method} {endpoint}: {status} {message}".TrimEnd());
    }

    /// <summary>Keyward's own REST API (JSON transcoding) through the same gateway.</summary>
    public async Task<JsonNode?> RestAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            throw new CliError($"cannot reach the gateway at {_http.BaseAddress}: {e.Message}");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            JsonNode? json = null;
            try
            {
                json = text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (JsonException)
            {
            }

            if (!response.IsSuccessStatusCode)
            {
                var message = (json as JsonObject)?["message"]?.GetValue<string>() ?? response.ReasonPhrase;
                throw new CliError($"{method} {path}: {(int)response.StatusCode} {message}");
            }

            return json;
        }
    }

    /// <summary>A plain-text REST call (checkpoints, cosignatures).</summary>
    public async Task<string> TextAsync(HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "text/plain");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            throw new CliError($"cannot reach the gateway at {_http.BaseAddress}: {e.Message}");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                string? message = null;
                try
                {
                    message = (JsonNode.Parse(text) as JsonObject)?["message"]?.GetValue<string>();
                }
                catch (JsonException)
                {
                }

                throw new CliError($"{method} {path}: {(int)response.StatusCode} {message ?? response.ReasonPhrase}");
            }

            return text;
        }
    }

    /// <summary>Streams a REST answer into a file (audit exports can be large).</summary>
    public async Task DownloadAsync(string path, string file)
    {
        using var response = await _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            var message = (JsonNode.Parse(await response.Content.ReadAsStringAsync()) as JsonObject)?["message"]?.GetValue<string>() ?? response.ReasonPhrase;
            throw new CliError($"GET {path}: {(int)response.StatusCode} {message}");
        }

        await using var target = File.Create(file);
        await response.Content.CopyToAsync(target);
    }

    public async Task<string> ServerKeyAsync() => (await OkAsync(HttpMethod.Get, "server-key"))!["public-key"]!.GetValue<string>();

    public async Task<string> CertificateOfAsync(string userId)
    {
        var data = await OkAsync(HttpMethod.Get, $"public-key?users={Uri.EscapeDataString(JsonSerializer.Serialize(new[] { userId }))}");
        return data!["public-keys"]![userId]!.GetValue<string>();
    }

    private static string SubjectOf(string token)
    {
        try
        {
            var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
            return JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)))!["sub"]!.GetValue<string>();
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or JsonException or NullReferenceException)
        {
            throw new CliError("KEYWARD_TOKEN is not a JWT with a 'sub' claim");
        }
    }

    public void Dispose() => _http.Dispose();
}
