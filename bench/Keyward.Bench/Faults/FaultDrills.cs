using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Keyward.Tests.Shared;

namespace Keyward.Bench.Faults;

/// <summary>One drill's figures: what was sent and acknowledged, what the audit log holds, what was lost or doubled, how long recovery took.</summary>
public sealed record DrillResult(string Name, long Sent, long Acknowledged, long InLog, long Lost, long Duplicated, double? RecoverSeconds, bool Passed, string Notes);

/// <summary>
/// `scripts/faults`: every failure drill against the real local stack, each with a bounded load, in a long form (the
/// figures of docs/reliability.md) or a short one (each drill ≤ 20 s, for `scripts/test`). Processes it stops it stops
/// by PID (services) or through scripts/stack (the broker and PostgreSQL); everything is restored in a finally.
/// </summary>
public static class FaultDrills
{
    public static async Task<int> RunAsync(StackEnvironment stack, bool shortForm, string? reportPath)
    {
        var other = OtherTenant.Create();
        var settings = other.Settings(new Dictionary<string, string>
        {
            // Refused tokens reach the audit trail folded per source and window: a short window for the access matrix.
            ["Keyward__Gateway__RefusedTokens__Window"] = "00:00:02",
        });
        Console.WriteLine($"faults ({(shortForm ? "short" : "long")} form): starting the five services…");
        var system = await BenchSystem.StartAsync(stack, TimeSpan.Zero, settings);
        await using var audit = new AuditCounts(stack["KEYWARD_POSTGRES_BENCH"], stack["KEYWARD_DEV_TENANT"]);
        var load = TimeSpan.FromSeconds(shortForm ? 4 : 10);
        var results = new List<DrillResult>();

        async Task Run(string name, Func<Task<DrillResult>> drill)
        {
            Console.WriteLine($"drill: {name}…");
            try
            {
                results.Add(await drill() with { Name = name });
            }
            catch (Exception e)
            {
                results.Add(new DrillResult(name, 0, 0, 0, 0, 0, null, false, $"the drill itself failed: {e.GetType().Name}: {e.Message}"));
            }

            var last = results[^1];
            Console.WriteLine($"    {(last.Passed ? "PASS" : "FAIL")}: sent {last.Sent}, acknowledged {last.Acknowledged}, in the log {last.InLog}, lost {last.Lost}, duplicated {last.Duplicated}" +
                (last.RecoverSeconds is { } s ? $", recovered in {Seconds(s)}" : "") + $"; {last.Notes}");
        }

        var workers = shortForm ? 2 : 4;
        // The broker's goal: the backlog of the outage (its length × 200 actions a second, far above a tenant's real rate)
        // is in the audit log within twice the outage, while the load goes on (what limits it: the report's last section).
        var brokerDown = shortForm ? 5 : 60;
        await Run($"RabbitMQ stopped {brokerDown} s under load", () => OutageAsync(system, audit, "broker", load, workers, TimeSpan.FromSeconds(brokerDown),
            pause: () => Stack(stack, "rabbit-pause"), resume: () => Stack(stack, "rabbit-resume"), Recovery.LogCaughtUp, recoverGoal: Math.Max(60, 2 * brokerDown)));
        await Run("audit service killed -9 mid-burst, restarted", () => OutageAsync(system, audit, "audit-kill", load, workers, TimeSpan.FromSeconds(1),
            pause: () => KillAsync(system, "audit"), resume: () => system.RestartAsync("audit", TimeSpan.Zero), Recovery.LogCaughtUp, recoverGoal: 60));
        await Run($"PostgreSQL stopped {(shortForm ? 3 : 10)} s and started again", () => OutageAsync(system, audit, "postgres", load, workers, TimeSpan.FromSeconds(shortForm ? 3 : 10),
            pause: () => Stack(stack, "pg-pause"), resume: () => Stack(stack, "pg-resume"), Recovery.FirstSuccess, recoverGoal: 30));
        await Run($"HSM token unplugged {(shortForm ? 3 : 15)} s, then back", () => HsmAsync(system, audit, stack, load, TimeSpan.FromSeconds(shortForm ? 3 : 15)));
        await Run($"lock race, 2 clients × {(shortForm ? 100 : 300)} rounds", () => LockRaceAsync(system, 2, shortForm ? 100 : 300));
        await Run($"lock race, 4 clients × {(shortForm ? 50 : 300)} rounds", () => LockRaceAsync(system, 4, shortForm ? 50 : 300));
        await Run($"{(shortForm ? 2_000 : 10_000):N0} malformed OCS requests", () => MalformedAsync(system, shortForm ? 2_000 : 10_000));
        await Run("access matrix: user vs user, tenant vs tenant, unsigned and foreign tokens", () => AccessMatrix.RunAsync(system, audit, other));
        await system.DisposeAsync();

        Console.WriteLine("faults: starting two replicas of each of the five services…");
        await using (var replicated = await BenchSystem.StartAsync(stack, TimeSpan.Zero, settings, replicas: 2))
        {
            await Run("one replica of each service killed -9 under load", () => ReplicaKillAsync(replicated, audit, load));
        }

        Console.WriteLine();
        Console.WriteLine(Table(results));
        if (reportPath is not null)
        {
            await File.WriteAllTextAsync(reportPath, Report(results, shortForm));
            Console.WriteLine($"wrote {reportPath}");
        }

        var passedCount = results.Count(r => r.Passed);
        // The line scripts/test adds to its own count.
        Console.WriteLine($"faults: {passedCount} passed, {results.Count - passedCount} failed");
        return results.All(r => r.Passed) ? 0 : 1;
    }

    /// <summary>When an outage counts as over: the service answers again, or the audit log holds everything acknowledged until then.</summary>
    private enum Recovery
    {
        FirstSuccess,
        LogCaughtUp,
    }

    /// <summary>
    /// Actions under load while a dependency goes away and comes back: every action the system acknowledged must be in
    /// the audit log once (none lost, none doubled), and no answer may be a 5xx other than 503/504 (an outage is not a
    /// defect). Recovery is timed from the dependency's return (<see cref="Recovery"/>).
    /// </summary>
    private static async Task<DrillResult> OutageAsync(BenchSystem system, AuditCounts audit, string name, TimeSpan load, int workers, TimeSpan down,
        Func<Task> pause, Func<Task> resume, Recovery recovery, double recoverGoal)
    {
        var prefix = $"f-{name}-{Guid.NewGuid():N}"[..24];
        await using var actions = PrivateKeyStores.Start(system, prefix, workers);
        await Task.Delay(load / 2);
        await pause();
        var paused = true;
        try
        {
            await Task.Delay(down);
            await resume();
            paused = false;
        }
        finally
        {
            if (paused)
            {
                await resume();
            }
        }

        var returned = DateTime.UtcNow;
        // Waited for three times the goal, so that a slow recovery is measured rather than only failed.
        var patience = TimeSpan.FromSeconds(recoverGoal * 3);
        TimeSpan? recovered = recovery == Recovery.FirstSuccess
            ? await actions.WaitForSuccessAfterAsync(returned, patience)
            : await audit.WaitForAsync("keys.private_key.stored", "actor", prefix, actions.AcknowledgedSoFar(), patience) is var (caughtUp, _, _) && actions.AcknowledgedBefore(returned).All(caughtUp.Contains)
                ? DateTime.UtcNow - returned
                : null;
        await Task.Delay(load / 2);
        var outcome = await actions.StopAsync();
        // Lost means never arrived: the backlog is given as long to drain as the recovery was given.
        var (logged, duplicates, repeats) = await audit.WaitForAsync("keys.private_key.stored", "actor", prefix, outcome.Acknowledged, patience + TimeSpan.FromSeconds(30));
        var duplicated = duplicates + repeats; // a key can be stored once: a second event for one user would be a defect too
        var lost = outcome.Acknowledged.Except(logged).Count();
        var passed = lost == 0 && duplicated == 0 && outcome.Defects == 0 && recovered <= TimeSpan.FromSeconds(recoverGoal);
        return new DrillResult(name, outcome.Sent, outcome.Acknowledged.Count, logged.Count, lost, duplicated, recovered?.TotalSeconds, passed,
            $"answers {outcome.StatusSummary}; 5xx other than 503/504: {outcome.Defects}; recovered = " +
            (recovery == Recovery.FirstSuccess ? "first acknowledged action after the return" : "the audit log holds every action acknowledged until the return") + $" (goal {recoverGoal:N0} s)");
    }

    private static async Task KillAsync(BenchSystem system, string name)
    {
        // SIGKILL by PID: no shutdown hook, no flush.
        Process.GetProcessById(system.Services[name].Pid).Kill(entireProcessTree: true);
        await Task.Delay(100);
    }

    /// <summary>Certificates under load while the HSM's token store is moved away and back: signing must return within 5 s, without a restart.</summary>
    private static async Task<DrillResult> HsmAsync(BenchSystem system, AuditCounts audit, StackEnvironment stack, TimeSpan load, TimeSpan down)
    {
        var tokens = Path.Combine(stack["KEYWARD_STACK_DIR"], "softhsm", "tokens");
        var unplugged = tokens + ".unplugged";
        var prefix = $"f-hsm-{Guid.NewGuid():N}"[..20];
        var caPid = system.Services["certificate-authority"].Pid;
        await using var signings = CertificateRequests.Start(system, prefix, workers: 2);
        await Task.Delay(load / 2);
        Directory.Move(tokens, unplugged);
        try
        {
            await Task.Delay(down);
        }
        finally
        {
            Directory.Move(unplugged, tokens);
        }

        var recovered = await signings.WaitForSuccessAfterAsync(DateTime.UtcNow, TimeSpan.FromSeconds(30)) ?? TimeSpan.MaxValue;
        await Task.Delay(load / 2);
        var outcome = await signings.StopAsync();
        var (logged, duplicates, repeats) = await audit.WaitForAsync("ca.certificate.signed", "target_id", prefix, outcome.Acknowledged, TimeSpan.FromSeconds(60));
        var duplicated = duplicates + repeats;
        var lost = outcome.Acknowledged.Except(logged).Count();
        var sameProcess = system.Services["certificate-authority"].Pid == caPid && !Process.GetProcessById(caPid).HasExited;
        var passed = lost == 0 && duplicated == 0 && outcome.Defects == 0 && recovered < TimeSpan.FromSeconds(5) && sameProcess;
        return new DrillResult("HSM token unplugged", outcome.Sent, outcome.Acknowledged.Count, logged.Count, lost, duplicated,
            recovered == TimeSpan.MaxValue ? null : recovered.TotalSeconds, passed,
            $"answers {outcome.StatusSummary}; the CA was {(sameProcess ? "not restarted" : "RESTARTED")}; goal: signing within 5 s of the HSM's return");
    }

    /// <summary>
    /// Keys stored and certificates signed through two gateways while the second instance of every service is killed -9
    /// at once: the survivors carry on (the gateways' gRPC clients retry on the other replica, the surviving relay takes
    /// the dead keyserver's outbox rows, the surviving audit consumer gets its unacknowledged messages). Nothing
    /// acknowledged may be lost or doubled, no answer may be a defect, and at most the requests in flight at the dead
    /// gateway (one per worker) go unanswered.
    /// </summary>
    private static async Task<DrillResult> ReplicaKillAsync(BenchSystem system, AuditCounts audit, TimeSpan load)
    {
        var prefix = $"f-replica-{Guid.NewGuid():N}"[..20];
        const int Workers = 2;
        await using var stores = PrivateKeyStores.Start(system, prefix + "k", Workers);
        await using var signings = CertificateRequests.Start(system, prefix + "c", Workers);
        await Task.Delay(load / 2);
        var killedAt = DateTime.UtcNow;
        foreach (var service in Keyward.LocalServices.LocalService.All)
        {
            await system.KillAsync($"{service.Name}@2");
        }

        await Task.Delay(load / 2 + TimeSpan.FromSeconds(3)); // the gateways' probes (every 2 s) see the dead destinations
        var recovered = new[] { stores.LastFailureAfter(killedAt), signings.LastFailureAfter(killedAt) }.Max();
        var stored = await stores.StopAsync();
        var signed = await signings.StopAsync();
        var (storedLogged, storedDuplicates, storedRepeats) = await audit.WaitForAsync("keys.private_key.stored", "actor", prefix + "k", stored.Acknowledged, TimeSpan.FromSeconds(60));
        var storedDoubled = storedDuplicates + storedRepeats;
        // A CA replica killed after signing and before answering: the keyserver has the other one sign again. Both
        // signatures happened and both are in the log (the first certificate was never delivered): a repeat, not a duplicate.
        var (signedLogged, signedDoubled, signedAgain) = await audit.WaitForAsync("ca.certificate.signed", "target_id", prefix + "c", signed.Acknowledged, TimeSpan.FromSeconds(60));
        var lost = stored.Acknowledged.Except(storedLogged).Count() + signed.Acknowledged.Except(signedLogged).Count();
        var unanswered = stored.Statuses.GetValueOrDefault(0) + signed.Statuses.GetValueOrDefault(0);
        var passed = lost == 0 && storedDoubled + signedDoubled == 0 && stored.Defects + signed.Defects == 0 && unanswered <= 2 * Workers
            && recovered < TimeSpan.FromSeconds(10);
        return new DrillResult("replicas killed", stored.Sent + signed.Sent, stored.Acknowledged.Count + signed.Acknowledged.Count,
            storedLogged.Count + signedLogged.Count, lost, storedDoubled + signedDoubled, recovered.TotalSeconds, passed,
            $"keys stored: {stored.StatusSummary}; certificates: {signed.StatusSummary}; 5xx other than 503/504: {stored.Defects + signed.Defects}; " +
            $"certificates signed again by the other CA after the first died before answering: {signedAgain} (both signatures in the log); " +
            $"recovered = the last answer other than 2xx after the kill (goal 10 s); unanswered (in flight at the dead gateway) ≤ {2 * Workers}");
    }

    /// <summary>Several devices of one user race for one folder's lock each round: exactly one wins, the others hear 423.</summary>
    private static async Task<DrillResult> LockRaceAsync(BenchSystem system, int clients, int rounds)
    {
        var user = $"f-race-{Guid.NewGuid():N}"[..20];
        var devices = Enumerable.Range(0, clients).Select(_ => system.Http(user)).ToList();
        try
        {
            var folder = await OcsFolderCalls.RegisterAsync(devices[0]);
            var wrong = 0;
            var answers = new Dictionary<int, int>();
            for (var round = 0; round < rounds; round++)
            {
                using var start = new Barrier(clients);
                var replies = await Task.WhenAll(devices.Select(device => Task.Run(async () =>
                {
                    start.SignalAndWait(TimeSpan.FromSeconds(10));
                    using var request = new HttpRequestMessage(HttpMethod.Post, $"{OcsFolderCalls.Api}lock/{folder}");
                    request.Headers.Add("X-NC-E2EE-COUNTER", "1");
                    using var response = await device.SendAsync(request);
                    var body = await response.Content.ReadAsStringAsync();
                    return ((int)response.StatusCode, body);
                })));
                foreach (var (status, _) in replies)
                {
                    answers[status] = answers.GetValueOrDefault(status) + 1;
                }

                var winners = replies.Select((r, i) => (r, i)).Where(x => x.r.Item1 == 200).ToList();
                if (winners.Count != 1 || replies.Any(r => r.Item1 is not (200 or 423)))
                {
                    wrong++;
                }

                foreach (var (reply, device) in winners)
                {
                    var token = System.Text.Json.JsonDocument.Parse(reply.body).RootElement.GetProperty("ocs").GetProperty("data").GetProperty("e2e-token").GetString();
                    using var unlock = new HttpRequestMessage(HttpMethod.Delete, $"{OcsFolderCalls.Api}lock/{folder}");
                    unlock.Headers.Add("e2e-token", token);
                    (await devices[device].SendAsync(unlock)).EnsureSuccessStatusCode();
                }
            }

            return new DrillResult($"lock race ×{clients}", rounds * clients, rounds, 0, 0, 0, null, wrong == 0,
                $"{rounds} rounds, {wrong} with other than exactly one winner; answers {string.Join(", ", answers.OrderBy(a => a.Key).Select(a => $"{a.Key} × {a.Value}"))}");
        }
        finally
        {
            devices.ForEach(d => d.Dispose());
        }
    }

    private static async Task<DrillResult> MalformedAsync(BenchSystem system, int requests)
    {
        var outcome = await MalformedRequests.FloodAsync(new Uri($"http://127.0.0.1:{system.Gateway.HttpPort}"), system.Token($"f-fuzz-{Guid.NewGuid():N}"[..20]), requests, clients: 8);
        var fiveHundreds = outcome.Statuses.Where(s => s.Key >= 500).Sum(s => s.Value);
        var dropped = outcome.Statuses.GetValueOrDefault(0);
        return new DrillResult("malformed requests", requests, outcome.Answered, 0, dropped, 0, null, outcome.Failures.Count == 0,
            $"5xx: {fiveHundreds}, no answer: {dropped}; answers {outcome.Summary}" + (outcome.Failures.Count > 0 ? $"; first: {outcome.Failures[0]}" : ""));
    }

    private static async Task Stack(StackEnvironment stack, string command)
    {
        using var process = Process.Start(new ProcessStartInfo(Path.Combine(stack.RepositoryRoot, "scripts", "stack"), [command]) { RedirectStandardOutput = true })!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/stack {command} failed ({process.ExitCode})");
        }
    }

    private static string Table(IReadOnlyList<DrillResult> results)
    {
        var lines = new StringBuilder();
        lines.AppendLine(CultureInfo.InvariantCulture, $"{"drill",-44} {"result",6} {"sent",7} {"acked",7} {"in log",7} {"lost",5} {"dup",4} {"recover",8}");
        foreach (var r in results)
        {
            var outcome = r.Passed ? "PASS" : "FAIL";
            lines.AppendLine(CultureInfo.InvariantCulture, $"{Shorten(r.Name, 44),-44} {outcome,6} {r.Sent,7} {r.Acknowledged,7} {r.InLog,7} {r.Lost,5} {r.Duplicated,4} {(r.RecoverSeconds is { } s ? Seconds(s) : "–"),8}");
        }

        return lines.ToString();
    }

    private static string Seconds(double seconds) => seconds < 1 ? $"{seconds * 1000:N0} ms" : $"{seconds:N1} s";

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static string Report(IReadOnlyList<DrillResult> results, bool shortForm)
    {
        var report = new StringBuilder();
        report.AppendLine("# Reliability: the failure drills");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Written by `scripts/faults{(shortForm ? " --short" : "")}` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, against the local stack (real PostgreSQL, RabbitMQ, SoftHSM; the five services as processes).");
        report.AppendLine("Each drill runs a bounded load, injects its fault, and counts: requests sent, actions the system acknowledged (2xx), the");
        report.AppendLine("acknowledged actions found in the tenant's audit log, those lost (acknowledged, not in the log) and doubled, and the time to recover.");
        report.AppendLine();
        report.AppendLine("| drill | result | sent | acknowledged | in the audit log | lost | duplicated | time to recover | notes |");
        report.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in results)
        {
            var outcome = r.Passed ? "pass" : "**FAIL**";
            report.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {outcome} | {r.Sent:N0} | {r.Acknowledged:N0} | {r.InLog:N0} | {r.Lost:N0} | {r.Duplicated:N0} | {(r.RecoverSeconds is { } s ? Seconds(s) : "–")} | {r.Notes.Replace("|", "\\|")} |");
        }

        report.AppendLine();
        report.AppendLine("How to read it: for the outage drills \"time to recover\" runs from the dependency's return until the audit log holds every");
        report.AppendLine("acknowledged action (the broker, the audit service) or until signing works again (the HSM; goal 5 s, no restart);");
        report.AppendLine("PostgreSQL's is the same, and during the outage answers are 503 with Retry-After, never another 5xx. The lock races count rounds");
        report.AppendLine("with other than exactly one winner. The malformed flood counts 5xx answers and requests left without any answer. The access");
        report.AppendLine("matrix lists each denial and whether its audit row was found. `scripts/faults` runs the long form; `scripts/faults --short`");
        report.AppendLine("(each drill ≤ 20 s) runs in `scripts/test`.");
        report.AppendLine();
        report.AppendLine("What limits the figures: after a broker outage every service's outbox relays its backlog one message per event with a");
        report.AppendLine("publisher confirm each, about 150 to 200 events a second beyond the ongoing 200 a second on this 2-core machine (a");
        report.AppendLine("minute's backlog took 55 to 104 s over several runs with the relay's retry pause capped at 30 s, 78 s with it at 5 s),");
        report.AppendLine("hence the broker's goal of twice the outage. Issue #18's one message per relay batch is the change that would shorten");
        report.AppendLine("it. The audit");
        report.AppendLine("service's recovery is timed from its readiness after the restart; the restart itself (a cold .NET start) takes a few seconds.");
        report.AppendLine("The replica drill runs its own system of two instances of every service (as `scripts/up --replicas 2`), the load");
        report.AppendLine("spread over both gateways as a balancer would, and kills the second instance of each service at once.");
        return report.ToString();
    }
}

/// <summary>Distinct acknowledged actions of one drill as the audit service stored them (its append-only leaves).</summary>
public sealed class AuditCounts(string connectionString, string tenant) : IAsyncDisposable
{
    // One pool for every poll: the drills ask many times a second while they wait.
    private readonly Npgsql.NpgsqlDataSource _data = Npgsql.NpgsqlDataSource.Create(connectionString);

    public double LastWaitSeconds { get; private set; }

    /// <summary>
    /// Waits until every acknowledged subject is in the log (or the timeout). Returns the subjects found; how many entries
    /// repeat an event already in the log (what "no duplicate" forbids); and how many subjects have more than one event
    /// (the same action done twice: a retry on another replica after the first died before answering).
    /// </summary>
    public async Task<(HashSet<string> Logged, long Duplicated, long Repeated)> WaitForAsync(string action, string column, string prefix, IReadOnlyCollection<string> acknowledged,
        TimeSpan timeout, string? tenantId = null)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var (logged, rows, events) = await CountAsync(action, column, prefix, tenantId ?? tenant);
            if (acknowledged.All(logged.Contains) || waited.Elapsed > timeout)
            {
                LastWaitSeconds = waited.Elapsed.TotalSeconds;
                return (logged, rows - events, events - logged.Count);
            }

            await Task.Delay(250);
        }
    }

    public async Task<(HashSet<string> Logged, long Rows, long Events)> CountAsync(string action, string column, string prefix, string tenantId)
    {
        try
        {
            // The column is one of two fixed names, never caller input.
            await using var command = _data.CreateCommand($"select {(column == "actor" ? "actor" : "target_id")}, event_id from audit.log_entries where tenant_id = @t and log = 'audit' and action = @a and {(column == "actor" ? "actor" : "target_id")} like @p");
            command.Parameters.AddWithValue("t", tenantId);
            command.Parameters.AddWithValue("a", action);
            command.Parameters.AddWithValue("p", prefix + "%");
            var logged = new HashSet<string>(StringComparer.Ordinal);
            var events = new HashSet<string>(StringComparer.Ordinal);
            long rows = 0;
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                logged.Add(reader.GetString(0));
                events.Add(reader.GetValue(1).ToString()!);
                rows++;
            }

            return (logged, rows, events.Count);
        }
        catch (Npgsql.NpgsqlException)
        {
            // PostgreSQL still coming back: nothing found yet.
            return ([], 0, 0);
        }
    }

    public ValueTask DisposeAsync() => _data.DisposeAsync();
}

/// <summary>A second tenant, so that the access matrix can try one tenant's token on another's data.</summary>
public sealed class OtherTenant
{
    public const string Id = "faults-other";
    public const string Issuer = "https://other.faults.keyward.local";
    private readonly RSA _key = RSA.Create(2048);
    private string _publicKeyFile = "";

    public static OtherTenant Create()
    {
        var tenant = new OtherTenant();
        tenant._publicKeyFile = Path.Combine(Path.GetTempPath(), $"keyward-faults-{Id}.pem");
        File.WriteAllText(tenant._publicKeyFile, tenant._key.ExportSubjectPublicKeyInfoPem());
        return tenant;
    }

    public IDictionary<string, string> Settings(IDictionary<string, string> settings)
    {
        settings[$"Keyward__Tenants__{Id}__Issuer"] = Issuer;
        settings[$"Keyward__Tenants__{Id}__SigningKeyFiles__0"] = _publicKeyFile;
        return settings;
    }

    public string Token(string user) => Tokens.Sign(_key, Issuer, Id, user);
}
