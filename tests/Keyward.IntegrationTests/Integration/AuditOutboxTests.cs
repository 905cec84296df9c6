using System.Net;
using System.Security.Cryptography;
using System.Text;
using Keyward.IntegrationTests.Infrastructure;
using Npgsql;

namespace Keyward.IntegrationTests.Integration;

/// <summary>Every key action leaves its audit event in the service's outbox, with ids and never a secret.</summary>
[Collection(SystemCollection.Name)]
public sealed class AuditOutboxTests(KeywardSystem system)
{
    [Fact]
    public async Task Key_actions_and_refusals_are_in_the_outbox_without_keys_or_ciphertext()
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

        var keyserverEvents = await OutboxAsync("keyserver", TestTenants.TenantA, user);
        var caEvents = await OutboxAsync("certificate_authority", TestTenants.TenantA, user);

        Assert.Equal(
            ["keys.private_key.stored", "keys.private_key.refused", "keys.private_key.fetched", "keys.certificate.issued", "keys.private_key.deleted"],
            keyserverEvents.Select(e => e.Action));
        Assert.Contains(caEvents, e => e.Action == "ca.certificate.signed");
        var everything = string.Join('\n', keyserverEvents.Concat(caEvents).Select(e => e.Json));
        Assert.DoesNotContain(blob.Split('|')[0], everything);
        Assert.DoesNotContain(certificate.Split('\n')[1], everything);
        Assert.DoesNotContain(csr.Split('\n')[1], everything);
        Assert.DoesNotContain("Bearer", everything);
    }

    private async Task<List<(string Action, string Json)>> OutboxAsync(string schema, string tenant, string user)
    {
        await using var connection = new NpgsqlConnection(system.Stack.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"select data::text from {schema}.mt_doc_auditoutboxmessage where tenant_id = @tenant and data::text like @user", connection);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("user", $"%{user}%");
        var events = new List<(string, string, string)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var json = reader.GetString(0);
            var root = System.Text.Json.JsonDocument.Parse(json).RootElement;
            var auditEvent = Property(root, "Event");
            events.Add((Property(auditEvent, "EventId").GetString()!, Property(auditEvent, "Action").GetString()!, json));
        }

        // UUIDv7 ids order events by time.
        return events.OrderBy(e => e.Item1, StringComparer.Ordinal).Select(e => (e.Item2, e.Item3)).ToList();
    }

    private static System.Text.Json.JsonElement Property(System.Text.Json.JsonElement element, string name) =>
        element.EnumerateObject().First(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)).Value;
}
