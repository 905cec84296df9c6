using System.Net.Http.Json;
using System.Text.Json;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>An auditor's view of one tenant's audit trail through the gateway's REST API.</summary>
public sealed class AuditTrailClient(HttpClient http)
{
    public HttpClient Http => http;

    public static AuditTrailClient For(KeywardSystem system, string tenant, string roles = "user,auditor") =>
        new(system.Http(system.Gateway, system.Tenants.Token("compliance-officer", roles, tenant)));

    public async Task<List<JsonElement>> QueryAsync(string query)
    {
        var page = await http.GetFromJsonAsync<JsonElement>($"/v1/audit/events?{query}");
        return page.TryGetProperty("entries", out var entries) ? entries.EnumerateArray().ToList() : [];
    }

    /// <summary>Every entry matching the query, following cursors.</summary>
    public async Task<List<JsonElement>> QueryAllAsync(string query)
    {
        var all = new List<JsonElement>();
        var cursor = "";
        do
        {
            var page = await http.GetFromJsonAsync<JsonElement>($"/v1/audit/events?{query}&pageSize=500{(cursor == "" ? "" : $"&cursor={cursor}")}");
            if (page.TryGetProperty("entries", out var entries))
            {
                all.AddRange(entries.EnumerateArray());
            }

            cursor = page.TryGetProperty("nextCursor", out var next) ? next.GetString() ?? "" : "";
        }
        while (cursor != "");
        return all;
    }

    /// <summary>Waits until the chain holds at least <paramref name="count"/> entries matching the query.</summary>
    public async Task<List<JsonElement>> WaitForAsync(string query, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var entries = await QueryAllAsync(query);
            if (entries.Count >= count)
            {
                return entries;
            }

            Assert.True(DateTime.UtcNow < deadline, $"only {entries.Count} of {count} audit entries for '{query}' reached the chain");
            await Task.Delay(250);
        }
    }

    public async Task<JsonElement> HeadAsync() => await http.GetFromJsonAsync<JsonElement>("/v1/audit/head");

    public async Task<JsonElement> VerifyAsync(long from = 0, long to = 0)
    {
        using var response = await http.PostAsJsonAsync("/v1/audit/verify", new { fromSequence = from, toSequence = to });
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<string> ExportAsync(long from = 0, long to = 0)
    {
        using var response = await http.GetAsync($"/v1/audit/export?from={from}&to={to}");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}
