using System.Net;
using Keyward.IntegrationTests.Infrastructure;

namespace Keyward.IntegrationTests.Integration;

/// <summary>
/// PostgreSQL taken away under a running system: callers are told to come back (503 with Retry-After, on OCS and
/// on REST), never that their request was bad; nothing is half-written; and once the database is back the same
/// requests succeed without any service being restarted.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DatabaseOutageTests(KeywardSystem system)
{
    private static readonly string Blob = $"{Convert.ToBase64String(new byte[48])}|{Convert.ToBase64String(new byte[12])}|{Convert.ToBase64String(new byte[40])}";

    [Fact]
    public async Task While_PostgreSQL_is_down_writes_are_503_with_retry_after_and_absent_then_succeed_once_it_is_back()
    {
        var user = $"outage-{Guid.NewGuid():N}"[..20];
        var ocs = OcsClient.For(system, user, TestTenants.TenantA);
        var folders = new E2eeFolders(ocs);
        var folderId = E2eeFolders.NewFolderId();
        var auditor = AuditTrailClient.For(system, TestTenants.TenantA);

        await LocalStack.RunAsync(system, "pg-pause");
        try
        {
            AssertOutage(await ocs.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob }));
            AssertOutage(await folders.RegisterAsync(folderId, null));

            // gRPC transcoded (head) and a plain HTTP endpoint of a service (export): both tell the caller to come back.
            foreach (var path in new[] { "/v1/audit/head", "/v1/audit/export" })
            {
                using var response = await auditor.Http.GetAsync(path);
                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{path}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                Assert.True(response.Headers.RetryAfter is not null, $"{path}: 503 without Retry-After");
            }
        }
        finally
        {
            await LocalStack.RunAsync(system, "pg-resume");

            // The restart also killed the idle connections this test process pools (57P01 on first use): later
            // tests that read the database directly must not inherit them.
            Npgsql.NpgsqlConnection.ClearAllPools();
        }

        // The write made during the outage is absent; the same requests now succeed (services reconnect by themselves).
        await EventuallyAsync(() => ocs.GetAsync("private-key"), HttpStatusCode.NotFound);
        await EventuallyAsync(() => ocs.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob }), HttpStatusCode.OK);
        await EventuallyAsync(() => folders.RegisterAsync(folderId, null), HttpStatusCode.OK);
        await EventuallyAsync(async () =>
        {
            using var head = await auditor.Http.GetAsync("/v1/audit/head");
            var text = await head.Content.ReadAsStringAsync();
            return new OcsReply(head.StatusCode, default, text);
        }, HttpStatusCode.OK);
    }

    private static void AssertOutage(OcsReply reply)
    {
        Assert.True(reply.Status == HttpStatusCode.ServiceUnavailable, $"expected 503, got {reply.Status}: {reply.Text}");
        Assert.Equal(503, reply.StatusCode);
        Assert.Equal("Service temporarily unavailable, try again later", reply.MetaMessage);
        Assert.True(reply.RetryAfter is not null, "OCS 503 without Retry-After");
    }

    /// <summary>
    /// A client retrying as Retry-After asks: each service finds its pooled connections broken once, on first use,
    /// and answers those requests 503 too. Any other answer fails the test at once.
    /// </summary>
    private static async Task EventuallyAsync(Func<Task<OcsReply>> call, HttpStatusCode wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var reply = await call();
            if (reply.Status == wanted)
            {
                return;
            }

            Assert.True(reply.Status == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline, $"expected {wanted} (or 503 while reconnecting), got {reply.Status}: {reply.Text}");
            await Task.Delay(250);
        }
    }
}
