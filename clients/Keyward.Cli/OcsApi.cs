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

    /// <summary>
    /// Signs in one of two ways: a Keyward token (KEYWARD_GATEWAY_URL, KEYWARD_TOKEN), or through a Nextcloud front door
    /// as a Nextcloud client does (KEYWARD_NEXTCLOUD_URL, KEYWARD_NEXTCLOUD_USER, KEYWARD_NEXTCLOUD_APP_PASSWORD): Basic
    /// with an app password, the user id then being the instance's (<c>cloud/user</c>), which may differ from the login.
    /// </summary>
    public OcsApi()
    {
        var nextcloud = Environment.GetEnvironmentVariable("KEYWARD_NEXTCLOUD_URL");
        var url = string.IsNullOrEmpty(nextcloud) ? Environment.GetEnvironmentVariable("KEYWARD_GATEWAY_URL") : nextcloud;
        var token = Environment.GetEnvironmentVariable("KEYWARD_TOKEN");
        var login = Environment.GetEnvironmentVariable("KEYWARD_NEXTCLOUD_USER");
        var appPassword = Environment.GetEnvironmentVariable("KEYWARD_NEXTCLOUD_APP_PASSWORD");
        ThroughNextcloud = !string.IsNullOrEmpty(nextcloud);
        if (ThroughNextcloud && (string.IsNullOrEmpty(login) || string.IsNullOrEmpty(appPassword)))
        {
            throw new CliError("with KEYWARD_NEXTCLOUD_URL set, also set KEYWARD_NEXTCLOUD_USER and KEYWARD_NEXTCLOUD_APP_PASSWORD (an app password from the instance)");
        }

        if (!ThroughNextcloud && (string.IsNullOrEmpty(url) || string.IsNullOrEmpty(token)))
        {
            throw new CliError("set KEYWARD_GATEWAY_URL (see .stack/gateway.env) and KEYWARD_TOKEN (scripts/token --user NAME), or KEYWARD_NEXTCLOUD_URL with a user and app password");
        }

        _http = new HttpClient { BaseAddress = new Uri(url!), Timeout = TimeSpan.FromMinutes(5) };
        _http.DefaultRequestHeaders.Authorization = ThroughNextcloud
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{login}:{appPassword}")))
            : new AuthenticationHeaderValue("Bearer", token);
        _http.DefaultRequestHeaders.Add("OCS-APIRequest", "true");
        _http.DefaultRequestHeaders.Accept.ParseAdd("application/json"); // OCS answers XML unless asked for JSON
        _http.DefaultRequestHeaders.Add("X-E2EE-SUPPORTED", "true");
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("keyward-cli/0.1");
        UserId = ThroughNextcloud ? InstanceUserId() : SubjectOf(token!);
    }

    /// <summary>The user id this CLI acts as: the token's <c>sub</c>, or the instance's id of the signed-in user.</summary>
    public string UserId { get; }

    /// <summary>Whether the calls go through a Nextcloud front door (file bodies then live on the instance, see <see cref="FileLayer"/>).</summary>
    public bool ThroughNextcloud { get; }

    /// <summary>Sends any request (WebDAV, the instance's share API) with this CLI's credentials; an unreachable server is a one-line error.</summary>
    public async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        try
        {
            return await _http.SendAsync(request, completion);
        }
        catch (HttpRequestException e)
        {
            throw new CliError($"cannot reach {_http.BaseAddress}: {e.Message}");
        }
    }

    /// <summary>Any OCS endpoint (not only E2EE's), its body parsed.</summary>
    public async Task<(int Status, JsonNode? Data, string Message)> OcsAsync(HttpMethod method, string path, IDictionary<string, string>? form = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (form is not null)
        {
            request.Content = new FormUrlEncodedContent(form);
        }

        using var response = await SendRawAsync(request);
        var (data, message) = ParseOcs(await response.Content.ReadAsStringAsync(), (int)response.StatusCode);
        return ((int)response.StatusCode, data, message);
    }

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

        var response = await SendRawAsync(request);
        var (data, message) = ParseOcs(await response.Content.ReadAsStringAsync(), (int)response.StatusCode);
        return ((int)response.StatusCode, data, message, response);
    }

    private static (JsonNode? Data, string Message) ParseOcs(string text, int status)
    {
        JsonNode? body;
        try
        {
            body = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new CliError($"the server answered {status} without an OCS body");
        }

        var meta = body?["ocs"]?["meta"];
        var data = body?["ocs"]?["data"];
        var message = (data as JsonObject)?["message"]?.GetValue<string>() is { Length: > 0 } returned ? returned : meta?["message"]?.GetValue<string>() ?? "";
        return (data, message);
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

        using var response = await SendRawAsync(request);
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

    /// <summary>A plain-text REST call (checkpoints, cosignatures).</summary>
    public async Task<string> TextAsync(HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "text/plain");
        }

        using var response = await SendRawAsync(request);
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

    /// <summary>The signed-in user's id on the instance (<c>cloud/user</c>'s <c>data.id</c>), asked once per command.</summary>
    private string InstanceUserId()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ocs/v2.php/cloud/user");
        HttpResponseMessage response;
        try
        {
            response = _http.Send(request); // once, in the constructor: the commands read UserId synchronously
        }
        catch (HttpRequestException e)
        {
            throw new CliError($"cannot reach the Nextcloud front door at {_http.BaseAddress}: {e.Message}");
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            using var reader = new StreamReader(response.Content.ReadAsStream());
            var text = reader.ReadToEnd();
            return status switch
            {
                200 => ParseOcs(text, status).Data?["id"]?.GetValue<string>() is { Length: > 0 } id ? id : throw new CliError("the instance's cloud/user named no user id"),
                401 => throw new CliError("the instance refused the login: check KEYWARD_NEXTCLOUD_USER and KEYWARD_NEXTCLOUD_APP_PASSWORD"),
                429 => throw new CliError("too many failed logins from here: the front door is slowing them down; wait, then try again"),
                _ => throw new CliError($"the front door answered {status} when asked who is signed in"),
            };
        }
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
