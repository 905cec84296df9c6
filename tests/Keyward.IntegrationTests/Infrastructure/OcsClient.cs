using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>Calls the gateway's OCS endpoints the way Nextcloud clients do, for one user.</summary>
public sealed class OcsClient(HttpClient http, string entry = "/ocs/v2.php", string api = "v2")
{
    public enum Body
    {
        Query,
        Form,
        Json,
    }

    public HttpClient Http => http;

    /// <summary>The user this client acts for, and its tenant ("" for the default test tenant).</summary>
    public string User { get; init; } = "";

    public string Tenant { get; init; } = "";

    public static OcsClient For(KeywardSystem system, string user, string? tenant = null, string entry = "/ocs/v2.php", string api = "v2", string? userAgent = null,
        ServiceProcess? gateway = null)
    {
        var client = system.Http(gateway ?? system.Gateway, system.Tenants.Token(user, tenant: tenant));
        client.DefaultRequestHeaders.Add("OCS-APIRequest", "true");
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (userAgent is null)
        {
            client.DefaultRequestHeaders.Add("X-E2EE-SUPPORTED", "true");
        }
        else
        {
            client.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
        }

        return new OcsClient(client, entry, api) { User = user, Tenant = tenant ?? "" };
    }

    public async Task<OcsReply> SendAsync(HttpMethod method, string endpoint, IDictionary<string, string>? parameters = null, Body body = Body.Form, IDictionary<string, string>? headers = null)
    {
        var uri = PathOf(endpoint);
        using var request = new HttpRequestMessage(method, uri);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (parameters is not null)
        {
            switch (body)
            {
                case Body.Query:
                    request.RequestUri = new Uri(uri + "?" + string.Join('&', parameters.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}")), UriKind.Relative);
                    break;
                case Body.Form:
                    request.Content = new FormUrlEncodedContent(parameters);
                    break;
                case Body.Json:
                    request.Content = JsonContent.Create(parameters);
                    break;
            }
        }

        return await SendAsync(request);
    }

    /// <summary>Sends a request made by hand (any body, any header) and reads the OCS answer.</summary>
    public async Task<OcsReply> SendAsync(HttpRequestMessage request)
    {
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new OcsReply(response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), text)
        {
            Signature = response.Headers.TryGetValues("X-NC-E2EE-SIGNATURE", out var signature) ? signature.Single() : null,
            RetryAfter = response.Headers.RetryAfter?.ToString(),
        };
    }

    /// <summary>The path of an E2EE endpoint of this client's entry point and API version.</summary>
    public string PathOf(string endpoint) => $"{entry}/apps/end_to_end_encryption/api/{api}/{endpoint}";

    public Task<OcsReply> GetAsync(string endpoint, IDictionary<string, string>? query = null) => SendAsync(HttpMethod.Get, endpoint, query, Body.Query);

    public Task<OcsReply> PostAsync(string endpoint, IDictionary<string, string> parameters, Body body = Body.Form) => SendAsync(HttpMethod.Post, endpoint, parameters, body);

    public Task<OcsReply> PutAsync(string endpoint, IDictionary<string, string> parameters, Body body = Body.Form) => SendAsync(HttpMethod.Put, endpoint, parameters, body);

    public Task<OcsReply> DeleteAsync(string endpoint) => SendAsync(HttpMethod.Delete, endpoint);

    /// <summary>Removes the user's keys so a test can start from nothing (deleting is always allowed).</summary>
    public async Task ResetKeysAsync()
    {
        Assert.Equal(HttpStatusCode.OK, (await DeleteAsync("private-key")).Status);
        Assert.Equal(HttpStatusCode.OK, (await DeleteAsync("public-key")).Status);
    }
}

public sealed record OcsReply(HttpStatusCode Status, JsonElement Body, string Text)
{
    /// <summary>The X-NC-E2EE-SIGNATURE response header, when present.</summary>
    public string? Signature { get; init; }

    /// <summary>The Retry-After response header, when present.</summary>
    public string? RetryAfter { get; init; }

    public JsonElement Meta => Body.GetProperty("ocs").GetProperty("meta");

    public JsonElement Data => Body.GetProperty("ocs").GetProperty("data");

    public int StatusCode => Meta.GetProperty("statuscode").GetInt32();

    public string MetaMessage => Meta.GetProperty("message").GetString()!;

    public string? DataMessage => Data.ValueKind == JsonValueKind.Object && Data.TryGetProperty("message", out var m) ? m.GetString() : null;

    public bool DataIsEmptyArray => Data.ValueKind == JsonValueKind.Array && Data.GetArrayLength() == 0;
}
