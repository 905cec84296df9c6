using System.Security.Cryptography;

namespace Keyward.Bench.Faults;

/// <summary>
/// The access matrix: who tries what on whose data — a user on another user's folder, a user of another tenant, a
/// token with no signature, a token signed by a key no tenant has, a tenant's token claiming another tenant. Each must
/// be refused with its status and leave its row in the audit trail of the tenant it claimed.
/// </summary>
public static class AccessMatrix
{
    private sealed record Attempt(string Who, string Token, int Expected, string AuditTenant, string AuditAction, string Actor);

    public static async Task<DrillResult> RunAsync(BenchSystem system, AuditCounts audit, OtherTenant other)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var devTenant = system.TenantId;
        var owner = $"f-owner-{run}";
        using var ownerHttp = system.Http(owner);
        var folder = await OcsFolderCalls.RegisterAsync(ownerHttp);
        using var stranger = RSA.Create(2048);
        var attempts = new[]
        {
            new Attempt("another user of the tenant", system.Token($"f-bob-{run}"), 403, devTenant, "metadata.lock.acquired", $"f-bob-{run}"),
            new Attempt("a user of another tenant", other.Token($"f-eve-{run}"), 403, OtherTenant.Id, "metadata.lock.acquired", $"f-eve-{run}"),
            new Attempt("a token without a signature (alg none)", Tokens.Unsigned(system.Issuer, devTenant, $"f-unsigned-{run}"), 401, devTenant, "auth.token.refused", $"f-unsigned-{run}"),
            new Attempt("a token signed by a key no tenant has", Tokens.Sign(stranger, system.Issuer, devTenant, $"f-foreign-{run}"), 401, devTenant, "auth.token.refused", $"f-foreign-{run}"),
            new Attempt("another tenant's token claiming this tenant", Tokens.Sign(stranger, OtherTenant.Issuer, devTenant, $"f-claim-{run}"), 401, devTenant, "auth.token.refused", $"f-claim-{run}"),
        };

        using var http = system.Anonymous();
        var notes = new List<string>();
        var refused = 0;
        var audited = 0;
        foreach (var attempt in attempts)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{OcsFolderCalls.Api}lock/{folder}");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", attempt.Token);
            request.Headers.Add("X-NC-E2EE-COUNTER", "1");
            request.Headers.Add("X-E2EE-SUPPORTED", "true");
            request.Headers.Add("OCS-APIRequest", "true");
            using var response = await http.SendAsync(request);
            var status = (int)response.StatusCode;
            refused += status == attempt.Expected ? 1 : 0;
            var (logged, _, _) = await audit.WaitForAsync(attempt.AuditAction, "actor", attempt.Actor, [attempt.Actor], TimeSpan.FromSeconds(20), attempt.AuditTenant);
            var found = logged.Contains(attempt.Actor);
            audited += found ? 1 : 0;
            notes.Add($"{attempt.Who}: {status}{(status == attempt.Expected ? "" : $" (expected {attempt.Expected})")}, {(found ? "audited" : "NOT AUDITED")}");
        }

        var passed = refused == attempts.Length && audited == attempts.Length;
        return new DrillResult("access matrix", attempts.Length, attempts.Length - refused, audited, attempts.Length - audited, 0, null, passed, string.Join("; ", notes));
    }
}
