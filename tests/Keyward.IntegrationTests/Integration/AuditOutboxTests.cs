using System.Net;
using System.Security.Cryptography;
using System.Text;
using Keyward.IntegrationTests.Infrastructure;

namespace Keyward.IntegrationTests.Integration;

/// <summary>Every key action leaves its audit event, through the service's outbox, in the chain: with ids and never a secret.</summary>
[Collection(SystemCollection.Name)]
public sealed class AuditOutboxTests(KeywardSystem system)
{
    [Fact]
    public async Task Key_actions_and_refusals_reach_the_audit_trail_without_keys_or_ciphertext()
    {
        var user = $"audited-{Guid.NewGuid():N}"[..24];
        var ocs = OcsClient.For(system, user, TestTenants.TenantA);
        var blob = $"{Convert.ToBase64String(RandomNumberGenerator.GetBytes(64))}|{Convert.ToBase64String(new byte[12])}|{Convert.ToBase64String(new byte[40])}";
        using var key = RSA.Create(2048);
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={user}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();

        Assert.Equal(HttpStatusCode.OK, (await ocs.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = blob })).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await ocs.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = blob })).Status);
        Assert.Equal(HttpStatusCode.OK, (await ocs.GetAsync("private-key")).Status);
        var certificate = (await ocs.PostAsync("public-key", new Dictionary<string, string> { ["csr"] = csr })).Data.GetProperty("public-key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await ocs.DeleteAsync("private-key")).Status);

        // The outbox is a queue the relay empties: what it carried is read where it ends, in the chain.
        var auditor = AuditTrailClient.For(system, TestTenants.TenantA);
        var entries = (await auditor.WaitForAsync($"actor={user}", 5))
            .OrderBy(e => e.GetProperty("eventId").GetString(), StringComparer.Ordinal) // UUIDv7 ids order events by time
            .ToList();
        // The CA signs for the keyserver's service identity, for this user (adversary (b): no admin asks the CA directly).
        var signed = Assert.Single(await auditor.WaitForAsync($"targetType=user&targetId={user}&actionPrefix=ca.certificate.signed", 1));
        Assert.Equal("service:keyserver", signed.GetProperty("actor").GetString());
        entries.Add(signed);
        var keyserverEvents = entries.Where(e => e.GetProperty("service").GetString() == "keyserver").Select(e => e.GetProperty("action").GetString()).ToList();

        Assert.Equal(
            ["keys.private_key.stored", "keys.private_key.refused", "keys.private_key.fetched", "keys.certificate.issued", "keys.private_key.deleted"],
            keyserverEvents);
        Assert.Contains(entries, e => e.GetProperty("service").GetString() == "certificate-authority" && e.GetProperty("action").GetString() == "ca.certificate.signed");
        var everything = string.Join('\n', entries.Select(e => e.GetRawText()));
        Assert.DoesNotContain(blob.Split('|')[0], everything);
        Assert.DoesNotContain(certificate.Split('\n')[1], everything);
        Assert.DoesNotContain(csr.Split('\n')[1], everything);
        Assert.DoesNotContain("Bearer", everything);

        // Relayed and confirmed, the events left the outboxes: they are queues, not a second record.
        foreach (var schema in new[] { "keyserver", "certificate_authority" })
        {
            Assert.Equal(0L, await OutboxRowsOnceDrainedAsync(schema, user));
        }
    }

    /// <summary>The user's rows left in a service's outbox, after up to 15 s for the relay to drain them.</summary>
    private async Task<long> OutboxRowsOnceDrainedAsync(string schema, string user)
    {
        await using var connection = new Npgsql.NpgsqlConnection(system.Stack.Postgres);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            await using var command = new Npgsql.NpgsqlCommand($"select count(*) from {schema}.mt_doc_auditoutboxmessage where data::text like @user", connection);
            command.Parameters.AddWithValue("user", $"%{user}%");
            var rows = (long)(await command.ExecuteScalarAsync())!;
            if (rows == 0 || DateTime.UtcNow > deadline)
            {
                return rows;
            }

            await Task.Delay(100);
        }
    }
}
