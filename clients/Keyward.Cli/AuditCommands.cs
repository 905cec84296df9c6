using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json;
using Keyward.AuditTrail;

namespace Keyward.Cli;

/// <summary><c>keyward audit …</c>: query, verify and export a tenant's audit trail, and verify an export offline.</summary>
public static class AuditCommands
{
    public static Command Create()
    {
        var audit = new Command("audit", "the tenant's tamper-evident audit trail (role auditor or admin)");
        audit.Subcommands.Add(VerifyExport());
        audit.Subcommands.Add(Query());
        audit.Subcommands.Add(Verify());
        audit.Subcommands.Add(Export());
        return audit;
    }

    private static Command VerifyExport()
    {
        var file = new Argument<FileInfo>("file") { Description = "an NDJSON export from `keyward audit export`" };
        var key = new Option<FileInfo?>("--checkpoint-key") { Description = "a checkpoint public key (PEM) you trust, instead of the one in the export" };
        var command = new Command("verify-export", "verify an export offline: the hash chain and every signed checkpoint; prints VALID or where it breaks") { file, key };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                return Fail($"no such file: {path.FullName}");
            }

            var trusted = parse.GetValue(key) is { } keyFile ? File.ReadAllText(keyFile.FullName) : null;
            using var reader = new StreamReader(path.FullName);
            var result = AuditExport.Verify(reader, trusted);
            Console.WriteLine(result.Summary);
            return result.IsValid ? 0 : 1;
        });
        return command;
    }

    private static Command Query()
    {
        var actor = new Option<string?>("--actor") { Description = "user id" };
        var action = new Option<string?>("--action") { Description = "action prefix, e.g. keys.private_key." };
        var outcome = new Option<string?>("--outcome") { Description = "success, denied or failed" };
        var target = new Option<string?>("--target") { Description = "target id (user or folder id)" };
        var since = new Option<string?>("--since") { Description = "ISO-8601 time" };
        var until = new Option<string?>("--until") { Description = "ISO-8601 time" };
        var limit = new Option<int>("--limit") { Description = "at most this many entries", DefaultValueFactory = _ => 100 };
        var oldestFirst = new Option<bool>("--oldest-first") { Description = "ascending order (default: newest first)" };
        var command = new Command("query", "list audit entries, newest first") { actor, action, outcome, target, since, until, limit, oldestFirst };
        command.SetAction(async (parse, cancellationToken) => await Gateway.RunAsync(async http =>
        {
            var parameters = new Dictionary<string, string?>
            {
                ["actor"] = parse.GetValue(actor),
                ["actionPrefix"] = parse.GetValue(action),
                ["outcome"] = parse.GetValue(outcome),
                ["targetId"] = parse.GetValue(target),
                ["fromTime"] = parse.GetValue(since),
                ["toTime"] = parse.GetValue(until),
                ["pageSize"] = Math.Clamp(parse.GetValue(limit), 1, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["descending"] = parse.GetValue(oldestFirst) ? "false" : "true",
            };
            var query = string.Join('&', parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}"));
            var page = await Gateway.GetJsonAsync(http, $"/v1/audit/events?{query}", cancellationToken);
            if (page.TryGetProperty("entries", out var entries))
            {
                foreach (var entry in entries.EnumerateArray())
                {
                    Console.WriteLine($"{entry.GetProperty("sequence")}\t{entry.GetProperty("occurredAt").GetString()}\t{entry.GetProperty("actor").GetString()}\t{entry.GetProperty("action").GetString()}\t{entry.GetProperty("targetType").GetString()}:{entry.GetProperty("targetId").GetString()}\t{entry.GetProperty("outcome").GetString()}");
                }
            }

            return 0;
        }));
        return command;
    }

    private static Command Verify()
    {
        var from = new Option<long>("--from") { Description = "first sequence (default: 1)" };
        var to = new Option<long>("--to") { Description = "last sequence (default: the head)" };
        var command = new Command("verify", "have the server recompute the chain against its signed checkpoints") { from, to };
        command.SetAction(async (parse, cancellationToken) => await Gateway.RunAsync(async http =>
        {
            using var response = await http.PostAsync("/v1/audit/verify",
                new StringContent(JsonSerializer.Serialize(new { fromSequence = parse.GetValue(from), toSequence = parse.GetValue(to) }), System.Text.Encoding.UTF8, "application/json"), cancellationToken);
            var result = await Gateway.ReadJsonAsync(response, cancellationToken);
            var status = result.GetProperty("status").GetString();
            Console.WriteLine(status == "VALID"
                ? $"VALID: entries {result.GetProperty("fromSequence")}..{result.GetProperty("toSequence")}, {result.GetProperty("checkpointsChecked")} checkpoint(s)"
                : $"BROKEN at entry {result.GetProperty("firstBrokenSequence")}: {result.GetProperty("reason").GetString()}");
            return status == "VALID" ? 0 : 1;
        }));
        return command;
    }

    private static Command Export()
    {
        var from = new Option<long>("--from") { Description = "first sequence (default: 1)" };
        var to = new Option<long>("--to") { Description = "last sequence (default: the head)" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "where to write the NDJSON", Required = true };
        var command = new Command("export", "download a range with its checkpoints, for offline verification") { from, to, output };
        command.SetAction(async (parse, cancellationToken) => await Gateway.RunAsync(async http =>
        {
            using var response = await http.GetAsync($"/v1/audit/export?from={parse.GetValue(from)}&to={parse.GetValue(to)}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            await Gateway.EnsureSuccessAsync(response, cancellationToken);
            var path = parse.GetValue(output)!.FullName;
            await using (var file = File.Create(path))
            {
                await response.Content.CopyToAsync(file, cancellationToken);
            }

            Console.Error.WriteLine($"exported to {path}; check it with: keyward audit verify-export {path}");
            return 0;
        }));
        return command;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"keyward: {message}");
        return 2;
    }
}

/// <summary>Talks to the gateway: KEYWARD_GATEWAY_URL and KEYWARD_TOKEN; every failure becomes one clear line.</summary>
internal static class Gateway
{
    public static async Task<int> RunAsync(Func<HttpClient, Task<int>> work)
    {
        var url = Environment.GetEnvironmentVariable("KEYWARD_GATEWAY_URL");
        var token = Environment.GetEnvironmentVariable("KEYWARD_TOKEN");
        if (string.IsNullOrEmpty(url) || string.IsNullOrEmpty(token))
        {
            Console.Error.WriteLine("keyward: set KEYWARD_GATEWAY_URL (see .stack/gateway.env) and KEYWARD_TOKEN (scripts/token --user NAME --roles auditor)");
            return 2;
        }

        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            return await work(http);
        }
        catch (HttpRequestException e)
        {
            Console.Error.WriteLine($"keyward: {e.Message}");
            return 1;
        }
        catch (CliError e)
        {
            Console.Error.WriteLine($"keyward: {e.Message}");
            return 1;
        }
    }

    public static async Task<JsonElement> GetJsonAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        return await ReadJsonAsync(response, cancellationToken);
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, cancellationToken);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        string? message = null;
        try
        {
            var json = JsonDocument.Parse(body).RootElement;
            message = json.TryGetProperty("message", out var m) ? m.GetString() : null;
        }
        catch (JsonException)
        {
        }

        throw new CliError($"the server answered {(int)response.StatusCode} {response.ReasonPhrase}{(message is null ? "" : $": {message}")}");
    }
}

internal sealed class CliError(string message) : Exception(message);
