using System.CommandLine;
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
        var key = new Option<FileInfo?>("--log-key") { Description = "the tenant's log public key (PEM) you trust" };
        var fingerprint = new Option<string?>("--log-key-fingerprint") { Description = "or: the SHA-256 fingerprint of that key (hex), e.g. from your Keyward operator" };
        var command = new Command("verify-export",
            "verify an export offline against a log key you pin: every leaf re-hashed into the tree, every checkpoint's signature and root; prints VALID or where it breaks") { file, key, fingerprint };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                return Fail($"no such file: {path.FullName}");
            }

            var trusted = parse.GetValue(key) is { } keyFile ? File.ReadAllText(keyFile.FullName) : null;
            var pinned = parse.GetValue(fingerprint) ?? Environment.GetEnvironmentVariable("KEYWARD_LOG_KEY_FINGERPRINT");
            if (trusted is null && string.IsNullOrWhiteSpace(pinned))
            {
                return Fail("pin the tenant's log key: --log-key FILE.pem or --log-key-fingerprint HEX (the export's own key is never trusted alone)");
            }

            using var stream = File.OpenRead(path.FullName);
            var result = AuditExport.Verify(stream, trusted, pinned);
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
        command.SetAction(parse => UserCommands.Run(async () =>
        {
            using var api = new OcsApi();
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
            var page = await api.RestAsync(HttpMethod.Get, $"/v1/audit/events?{query}");
            foreach (var entry in page?["entries"]?.AsArray() ?? [])
            {
                Console.WriteLine($"{entry!["sequence"]}\t{entry["occurredAt"]}\t{entry["actor"]}\t{entry["action"]}\t{entry["targetType"]}:{entry["targetId"]}\t{entry["outcome"]}");
            }

            return 0;
        }));
        return command;
    }

    private static Command Verify()
    {
        var from = new Option<long>("--from") { Description = "first sequence (default: 1)" };
        var to = new Option<long>("--to") { Description = "last sequence (default: the head)" };
        var pin = new Option<string?>("--log-key-fingerprint") { Description = "the log key fingerprint you trust (default: KEYWARD_LOG_KEY_FINGERPRINT, then the server's configured pin)" };
        var command = new Command("verify", "have the server re-hash the whole log and check it against every signed checkpoint and the CA's own record") { from, to, pin };
        command.SetAction(parse => UserCommands.Run(async () =>
        {
            using var api = new OcsApi();
            var fingerprint = parse.GetValue(pin) ?? Environment.GetEnvironmentVariable("KEYWARD_LOG_KEY_FINGERPRINT") ?? "";
            var result = (await api.RestAsync(HttpMethod.Post, "/v1/audit/verify",
                new { fromSequence = parse.GetValue(from), toSequence = parse.GetValue(to), logKeyFingerprint = fingerprint }))!;
            var status = (string?)result["status"];
            var key = $"log key {result["keyFingerprint"]}{(result["keyPinned"]?.GetValue<bool>() == true ? " (pinned)" : " (NOT pinned: pass --log-key-fingerprint)")}";
            Console.WriteLine(status == "VALID"
                ? $"VALID: entries {result["entriesChecked"]}, {result["checkpointsChecked"]} checkpoint(s), {key}"
                : $"BROKEN at entry {result["firstBrokenSequence"]}: {result["reason"]}; {key}");
            return status == "VALID" ? 0 : 1;
        }));
        return command;
    }

    private static Command Export()
    {
        var from = new Option<long>("--from") { Description = "first leaf index (default: 0)" };
        var to = new Option<long>("--to") { Description = "end leaf index, exclusive (default: the newest signed checkpoint)" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "where to write the NDJSON", Required = true };
        var command = new Command("export", "download a range with its checkpoints, for offline verification") { from, to, output };
        command.SetAction(parse => UserCommands.Run(async () =>
        {
            using var api = new OcsApi();
            var path = parse.GetValue(output)!.FullName;
            await api.DownloadAsync($"/v1/audit/export?from={parse.GetValue(from)}&to={parse.GetValue(to)}", path);

            Console.Error.WriteLine($"exported to {path}; check it with: keyward audit verify-export {path} --log-key-fingerprint <the tenant's log key fingerprint>");
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
