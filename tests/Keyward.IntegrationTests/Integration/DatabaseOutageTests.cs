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
            var keyWrite = await SendAsync(ocs, HttpMethod.Post, "private-key", new Dictionary<string, string> { ["privateKey"] = Blob });
            AssertOutage(keyWrite);
            AssertOutage(await SendAsync(ocs, HttpMethod.Put, $"encrypted/{folderId}", null));

            using var head = await auditor.Http.GetAsync("/v1/audit/head");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, head.StatusCode);
            Assert.True(head.Headers.RetryAfter is not null, "REST 503 without Retry-After");
        }
        finally
        {
            await LocalStack.RunAsync(system, "pg-resume");
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

    private static void AssertOutage(Reply reply)
    {
        Assert.True(reply.Ocs.Status == HttpStatusCode.ServiceUnavailable, $"expected 503, got {reply.Ocs.Status}: {reply.Ocs.Text}");
        Assert.Equal(503, reply.Ocs.StatusCode);
        Assert.Equal("Service temporarily unavailable, try again later", reply.Ocs.MetaMessage);
        Assert.True(reply.RetryAfter is not null, "OCS 503 without Retry-After");
    }

    private sealed record Reply(OcsReply Ocs, string? RetryAfter);

    private static async Task<Reply> SendAsync(OcsClient ocs, HttpMethod method, string endpoint, IDictionary<string, string>? form)
    {
        using var request = new HttpRequestMessage(method, $"/ocs/v2.php/apps/end_to_end_encryption/api/v2/{endpoint}");
        if (form is not null)
        {
            request.Content = new FormUrlEncodedContent(form);
        }

        using var response = await ocs.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var retryAfter = response.Headers.TryGetValues("Retry-After", out var values) ? values.Single() : null;
        return new Reply(new OcsReply(response.StatusCode, System.Text.Json.JsonDocument.Parse(text).RootElement.Clone(), text), retryAfter);
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
