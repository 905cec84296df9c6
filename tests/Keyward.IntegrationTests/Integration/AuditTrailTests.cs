using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Keyward.AuditTrail;
using Keyward.IntegrationTests.Infrastructure;
using Npgsql;

namespace Keyward.IntegrationTests.Integration;

/// <summary>The audit guarantee on the real stack: outbox → RabbitMQ → per-tenant hash chain with HSM-signed checkpoints.</summary>
[Collection(SystemCollection.Name)]
public sealed class AuditTrailTests(KeywardSystem system)
{
    private static readonly string Blob = $"{Convert.ToBase64String(new byte[48])}|{Convert.ToBase64String(new byte[12])}|{Convert.ToBase64String(new byte[40])}";

    private static long Long(JsonElement value) => value.ValueKind == JsonValueKind.String ? long.Parse(value.GetString()!) : value.GetInt64();

    private static string NewUser(string name) => $"{name}-{Guid.NewGuid():N}"[..20];

    /// <summary>Three key actions by one user: stored, refused (409), fetched.</summary>
    private async Task ActAsync(string user, string tenant)
    {
        var ocs = OcsClient.For(system, user, tenant);
        Assert.Equal(HttpStatusCode.OK, (await ocs.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob })).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await ocs.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob })).Status);
        Assert.Equal(HttpStatusCode.OK, (await ocs.GetAsync("private-key")).Status);
    }

    [Fact]
    public async Task Actions_reach_the_chain_in_order_and_can_be_queried_by_actor_action_outcome_and_page()
    {
        var user = NewUser("actor");
        var auditor = AuditTrailClient.For(system, TestTenants.TenantB);
        await ActAsync(user, TestTenants.TenantB);

        var entries = await auditor.WaitForAsync($"actor={user}", 3);

        Assert.Equal(["keys.private_key.stored", "keys.private_key.refused", "keys.private_key.fetched"], entries.Select(e => e.GetProperty("action").GetString()));
        var sequences = entries.Select(e => Long(e.GetProperty("sequence"))).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.All(entries, e => Assert.Contains($"\"tenantId\":\"{TestTenants.TenantB}\"", e.GetProperty("event").GetString()));
        Assert.Single(await auditor.QueryAsync($"actor={user}&outcome=denied"));
        Assert.Equal(2, (await auditor.QueryAsync($"actor={user}&actionPrefix=keys.private_key.&outcome=success")).Count);

        var firstPage = await auditor.Http.GetFromJsonElementAsync($"/v1/audit/events?actor={user}&pageSize=2&descending=true");
        var page = firstPage.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(["keys.private_key.fetched", "keys.private_key.refused"], page);
        var next = await auditor.QueryAsync($"actor={user}&pageSize=2&descending=true&cursor={firstPage.GetProperty("nextCursor").GetString()}");
        Assert.Equal("keys.private_key.stored", Assert.Single(next).GetProperty("action").GetString());
        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"));
        Assert.Empty(await auditor.QueryAsync($"actor={user}&fromTime={from}"));
    }

    [Fact]
    public async Task The_chain_verifies_its_checkpoints_are_HSM_signed_and_an_export_verifies_offline()
    {
        var auditor = AuditTrailClient.For(system, TestTenants.TenantB);
        var user = NewUser("exported");
        for (var i = 0; i < 3; i++)
        {
            await ActAsync($"{user}{i}", TestTenants.TenantB);
        }

        await auditor.WaitForAsync($"actor={user}2", 3);
        await WaitForCheckpointAsync(auditor);

        var verified = await auditor.VerifyAsync();
        AssertValid(verified);
        Assert.True(Long(verified.GetProperty("checkpointsChecked")) > 0);

        var export = await auditor.ExportAsync();
        var exportFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(exportFile, export);
        var fingerprint = verified.GetProperty("keyFingerprint").GetString()!;
        var (exitCode, output) = await CliAsync("audit", "verify-export", exportFile, "--log-key-fingerprint", fingerprint);
        var (unpinned, unpinnedOutput) = await CliAsync("audit", "verify-export", exportFile);
        File.Delete(exportFile);
        Assert.True(exitCode == 0, output);
        Assert.StartsWith("VALID: log keyward.local/tenant-b/audit", output);
        Assert.Equal(2, unpinned);
        Assert.Contains("pin the tenant's log key", unpinnedOutput);
        Assert.DoesNotContain(Blob.Split('|')[0], export);
    }

    [Fact]
    public async Task The_database_refuses_to_update_or_delete_chain_entries()
    {
        var auditor = AuditTrailClient.For(system, TestTenants.TenantB);
        await ActAsync(NewUser("guarded"), TestTenants.TenantB);
        await auditor.WaitForAsync("actionPrefix=keys.", 1);
        await using var connection = new NpgsqlConnection(system.Stack.Postgres);
        await connection.OpenAsync();

        foreach (var sql in new[]
        {
            "update audit.log_entries set action = 'x' where tenant_id = 'tenant-b'", "delete from audit.log_entries where tenant_id = 'tenant-b'", "truncate audit.log_entries",
            "delete from audit.log_checkpoints", "update audit.log_nodes set hash = hash", "delete from audit.log_states", "truncate audit.log_cosignatures",
        })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.Contains("append-only", refused.MessageText);
        }
    }

    [Fact]
    public async Task A_row_changed_behind_the_guard_is_found_by_verify_and_by_the_offline_check()
    {
        var auditor = AuditTrailClient.For(system, TestTenants.TenantC);
        var before = Long((await auditor.HeadAsync()).GetProperty("sequence"));
        var user = NewUser("victim");
        await ActAsync(user, TestTenants.TenantC);
        var entries = await auditor.WaitForAsync($"actor={user}", 3);
        await WaitForCheckpointAsync(auditor, atLeast: Long(entries[^1].GetProperty("sequence")));
        var tampered = Long(entries[1].GetProperty("sequence"));

        // A superuser rewrites history: the refused attempt becomes a success.
        await using (var connection = new NpgsqlConnection(system.Stack.Postgres))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""
                begin;
                alter table audit.log_entries disable trigger log_entries_append_only;
                update audit.log_entries set leaf = convert_to(replace(convert_from(leaf, 'UTF8'), '"denied"', '"success"'), 'UTF8'), outcome = 'success'
                    where tenant_id = @t and log = 'audit' and idx = @s - 1;
                alter table audit.log_entries enable trigger log_entries_append_only;
                commit;
                """, connection);
            command.Parameters.AddWithValue("t", TestTenants.TenantC);
            command.Parameters.AddWithValue("s", tampered);
            await command.ExecuteNonQueryAsync();
        }

        var verified = await auditor.VerifyAsync(before + 1);
        Assert.Equal("BROKEN", verified.GetProperty("status").GetString());
        Assert.True(tampered == Long(verified.GetProperty("firstBrokenSequence")), $"{tampered}: {verified}");
        Assert.Equal("its content does not match its leaf hash in the tree", verified.GetProperty("reason").GetString());

        var exportFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(exportFile, await auditor.ExportAsync(before));
        var (exitCode, output) = await CliAsync("audit", "verify-export", exportFile, "--log-key-fingerprint", verified.GetProperty("keyFingerprint").GetString()!);
        File.Delete(exportFile);
        Assert.Equal(1, exitCode);
        Assert.Contains("do not hash to the root the log signed", output);
    }

    [Fact]
    public async Task An_auditor_of_one_tenant_never_sees_another_tenants_trail()
    {
        var user = NewUser("private");
        await ActAsync(user, TestTenants.TenantB);
        await AuditTrailClient.For(system, TestTenants.TenantB).WaitForAsync($"actor={user}", 3);

        var otherAuditor = AuditTrailClient.For(system, TestTenants.TenantA);

        Assert.Empty(await otherAuditor.QueryAsync($"actor={user}"));
        Assert.All(await otherAuditor.QueryAsync("pageSize=200&descending=true"), e => Assert.Contains("\"tenantId\":\"tenant-a\"", e.GetProperty("event").GetString()));
    }

    [Fact]
    public async Task The_gateway_records_refused_tokens_and_refused_clients_in_the_named_tenants_trail()
    {
        var intruder = NewUser("intruder");
        var expired = system.Tenants.Token(intruder, tenant: TestTenants.TenantC, lifetime: TimeSpan.FromMinutes(-5));
        using (var http = system.Http(system.Gateway, expired))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/keys/whoami")).StatusCode);
        }

        var oldClient = OcsClient.For(system, intruder, TestTenants.TenantC, userAgent: "Mozilla/5.0 (Linux) mirall/2.0.0");
        Assert.Equal(HttpStatusCode.Forbidden, (await oldClient.GetAsync("server-key")).Status);

        var auditor = AuditTrailClient.For(system, TestTenants.TenantC);
        var entries = await auditor.WaitForAsync($"actor={intruder}", 2);
        var refusedToken = Assert.Single(entries, e => e.GetProperty("action").GetString() == "auth.token.refused");
        Assert.Equal("denied", refusedToken.GetProperty("outcome").GetString());
        Assert.StartsWith("the token expired at", refusedToken.GetProperty("reason").GetString());
        Assert.Contains("\"subject_verified\":\"false\"", refusedToken.GetProperty("event").GetString());
        Assert.Single(entries, e => e.GetProperty("action").GetString() == "ocs.client.refused");
    }

    [Theory]
    [InlineData("/v1/audit/events")]
    [InlineData("/v1/audit/head")]
    [InlineData("/v1/audit/export")]
    public async Task A_user_without_the_auditor_role_gets_403(string path)
    {
        using var http = system.Http(system.Gateway, system.Tenants.Token("curious", "user", TestTenants.TenantB));

        using var response = await http.GetAsync(path);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task While_RabbitMQ_is_down_actions_still_work_and_every_event_reaches_the_chain_in_order_once_it_is_back()
    {
        var user = NewUser("offline");
        var auditor = AuditTrailClient.For(system, TestTenants.TenantB);
        await StackAsync("rabbit-pause");
        try
        {
            await ActAsync(user, TestTenants.TenantB);
            await ActAsync(user + "b", TestTenants.TenantB);
            await Task.Delay(1000);
            Assert.Empty(await auditor.QueryAsync($"actor={user}"));
        }
        finally
        {
            await StackAsync("rabbit-resume");
        }

        var entries = await auditor.WaitForAsync($"actor={user}", 3, TimeSpan.FromSeconds(90));
        await auditor.WaitForAsync($"actor={user}b", 3, TimeSpan.FromSeconds(30));

        Assert.Equal(["keys.private_key.stored", "keys.private_key.refused", "keys.private_key.fetched"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal(3, entries.Select(e => e.GetProperty("eventId").GetString()).Distinct().Count());
        AssertValid(await auditor.VerifyAsync());
    }

    [Fact]
    public async Task The_audit_service_killed_in_the_middle_of_a_burst_leaves_no_gap_and_no_duplicate()
    {
        var user = NewUser("burst");
        var auditor = AuditTrailClient.For(system, TestTenants.TenantA);
        var before = Long((await auditor.HeadAsync()).GetProperty("sequence"));
        var ocs = OcsClient.For(system, user, TestTenants.TenantA);
        Assert.Equal(HttpStatusCode.OK, (await ocs.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob })).Status);
        const int Reads = 300;

        async Task Burst(int count) => await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (_, _) => Assert.Equal(HttpStatusCode.OK, (await ocs.GetAsync("private-key")).Status));

        await Burst(Reads / 2);
        // SIGKILL while the first half is being chained, the second half arrives while it is down.
        await system.RestartAsync("audit", whileDown: () => Burst(Reads / 2));

        var entries = await auditor.WaitForAsync($"actor={user}", Reads + 1, TimeSpan.FromSeconds(90));
        Assert.Equal(Reads + 1, entries.Count);
        Assert.Equal(Reads + 1, entries.Select(e => e.GetProperty("eventId").GetString()).Distinct().Count());
        var verified = await auditor.VerifyAsync(before + 1);
        AssertValid(verified);
        var head = Long((await auditor.HeadAsync()).GetProperty("sequence"));
        Assert.Equal(head - before, Long(verified.GetProperty("entriesChecked")));
    }

    private static void AssertValid(JsonElement verified) =>
        Assert.True(verified.GetProperty("status").GetString() == "VALID", verified.ToString());

    private static async Task WaitForCheckpointAsync(AuditTrailClient auditor, long atLeast = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Long((await auditor.HeadAsync()).GetProperty("lastCheckpointSequence")) < atLeast)
        {
            Assert.True(DateTime.UtcNow < deadline, "no checkpoint was signed");
            await Task.Delay(250);
        }
    }

    /// <summary>Runs the keyward CLI from its build output.</summary>
    private async Task<(int ExitCode, string Output)> CliAsync(params string[] arguments)
    {
        var cli = Path.Combine(system.Stack.RepositoryRoot, "clients", "Keyward.Cli", "bin", ServiceProcess.BuildConfiguration, "net10.0", "keyward.dll");
        var start = new ProcessStartInfo("dotnet", [cli, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (output + error).Trim());
    }

    private Task StackAsync(string command) => LocalStack.RunAsync(system, command);
}

internal static class HttpJson
{
    public static async Task<JsonElement> GetFromJsonElementAsync(this HttpClient http, string uri) =>
        JsonDocument.Parse(await http.GetStringAsync(uri)).RootElement.Clone();
}
