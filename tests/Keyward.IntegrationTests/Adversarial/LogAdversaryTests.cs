using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Keyward.IntegrationTests.Infrastructure;
using Keyward.LocalServices;
using Keyward.Transparency;
using Npgsql;
using RabbitMQ.Client;

namespace Keyward.IntegrationTests.Adversarial;

/// <summary>
/// The audit log from the attacker's side: a PostgreSQL superuser who edits, deletes or rewinds rows behind the
/// triggers; a process with one service's broker credentials that speaks for another; an unauthenticated caller
/// who floods a tenant's trail with forged tokens. And the log's proofs checked by sigstore's verifier, not ours.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class LogAdversaryTests(KeywardSystem system)
{
    private static readonly string Blob = $"{Convert.ToBase64String(new byte[48])}|{Convert.ToBase64String(new byte[12])}|{Convert.ToBase64String(new byte[40])}";

    private static long Long(JsonElement value) => value.ValueKind == JsonValueKind.String ? long.Parse(value.GetString()!) : value.GetInt64();

    private static string NewUser(string name) => $"{name}-{Guid.NewGuid():N}"[..20];

    private async Task<List<JsonElement>> ActAsync(string tenant, AuditTrailClient auditor)
    {
        var user = NewUser("actor");
        var ocs = OcsClient.For(system, user, tenant);
        Assert.Equal(HttpStatusCode.OK, (await ocs.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob })).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await ocs.PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob })).Status);
        Assert.Equal(HttpStatusCode.OK, (await ocs.GetAsync("private-key")).Status);
        var entries = await auditor.WaitForAsync($"actor={user}", 3);
        await WaitForCheckpointAsync(auditor, Long(entries[^1].GetProperty("sequence")));
        return entries;
    }

    [Fact]
    public async Task A_served_column_edited_behind_the_triggers_does_not_change_what_is_served_and_verify_names_the_entry()
    {
        var auditor = AuditTrailClient.For(system, TestTenants.TenantC);
        var entries = await ActAsync(TestTenants.TenantC, auditor);
        var victim = entries[1];
        var sequence = Long(victim.GetProperty("sequence"));

        await SuperuserAsync("""
            begin;
            alter table audit.log_entries disable trigger log_entries_append_only;
            update audit.log_entries set actor = 'someone-else', outcome = 'success' where tenant_id = @t and log = 'audit' and idx = @i;
            alter table audit.log_entries enable trigger log_entries_append_only;
            commit;
            """, ("t", TestTenants.TenantC), ("i", sequence - 1));

        // The query found it by the edited column, but serves what the leaf says.
        var served = Assert.Single(await auditor.QueryAsync("actor=someone-else"));
        Assert.Equal(victim.GetProperty("actor").GetString(), served.GetProperty("actor").GetString());
        Assert.Equal("denied", served.GetProperty("outcome").GetString());
        var verified = await auditor.VerifyAsync(sequence);
        Assert.Equal("BROKEN", verified.GetProperty("status").GetString());
        Assert.Equal(sequence, Long(verified.GetProperty("firstBrokenSequence")));
        Assert.Equal("a served column differs from the entry's leaf", verified.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_tail_deleted_and_the_tree_state_moved_back_are_found_by_verify_by_a_client_with_an_older_checkpoint_and_by_the_CA()
    {
        var auditor = AuditTrailClient.For(system, TestTenants.TenantE);
        await ActAsync(TestTenants.TenantE, auditor);
        var entries = await ActAsync(TestTenants.TenantE, auditor);
        var signedSize = Long((await auditor.HeadAsync()).GetProperty("lastCheckpointSequence"));
        var seen = await CheckpointAsync(auditor);
        Assert.Equal(signedSize, seen.Size);
        var keep = Long(entries[0].GetProperty("sequence")) - 1;

        // Everything after `keep` leaves goes: entries, their tree nodes, the later states and checkpoints.
        await SuperuserAsync("""
            begin;
            set local session_replication_role = replica;
            delete from audit.log_entries where tenant_id = @t and log = 'audit' and idx >= @k;
            delete from audit.log_nodes where tenant_id = @t and log = 'audit' and ((idx + 1) << level) > @k;
            delete from audit.log_states where tenant_id = @t and log = 'audit' and size > @k;
            delete from audit.log_checkpoints where tenant_id = @t and log = 'audit' and size > @k;
            commit;
            """, ("t", TestTenants.TenantE), ("k", keep));

        var verified = await auditor.VerifyAsync();
        Assert.Equal("BROKEN", verified.GetProperty("status").GetString());
        Assert.Contains($"the CA signed {signedSize} entries, the log holds {keep}", verified.GetProperty("reason").GetString());

        // New actions land on the rewound tree; the CA refuses to sign it, so no checkpoint ever covers the rewrite.
        var user = NewUser("after");
        Assert.Equal(HttpStatusCode.OK, (await OcsClient.For(system, user, TestTenants.TenantE).PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob })).Status);
        await auditor.WaitForAsync($"actor={user}", 1);
        await Task.Delay(3000);
        var served = await CheckpointAsync(auditor);
        Assert.True(served.Size <= keep, $"the rewritten log of size {Long((await auditor.HeadAsync()).GetProperty("sequence"))} must not get a checkpoint (got {served.Size})");

        // A client that saw the signed size before holds a head the server can no longer extend.
        var trusted = new TrustedHead(seen.Size, seen.RootHash);
        using var consistency = await auditor.Http.GetAsync($"/v1/audit/proof?from={served.Size}&to={seen.Size}");
        Assert.Equal(HttpStatusCode.NotFound, consistency.StatusCode);
        Assert.Null(trusted.Advance(served, []));
        Assert.Equal("BROKEN", (await auditor.VerifyAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_checkpoint_and_an_inclusion_proof_verify_with_sigstores_own_verifier_and_a_tampered_leaf_does_not()
    {
        var auditor = AuditTrailClient.For(system, TestTenants.TenantB);
        var user = NewUser("proved");
        Assert.Equal(HttpStatusCode.OK, (await OcsClient.For(system, user, TestTenants.TenantB).PostAsync("private-key", new Dictionary<string, string> { ["privateKey"] = Blob })).Status);
        var entry = Assert.Single(await auditor.WaitForAsync($"actor={user}", 1));
        var index = Long(entry.GetProperty("sequence")) - 1;
        await WaitForCheckpointAsync(auditor, index + 1);
        var proof = await auditor.Http.GetFromJsonAsync<JsonElement>($"/v1/audit/proof?index={index}");
        var key = await auditor.Http.GetFromJsonAsync<JsonElement>("/v1/ca/checkpoint-key");
        var checkpoint = proof.GetProperty("checkpoint").GetString()!;
        Assert.True(TreeHead.TryParse(checkpoint[..(checkpoint.IndexOf("\n\n", StringComparison.Ordinal) + 1)], out var head));
        var leaf = Encoding.UTF8.GetBytes(entry.GetProperty("event").GetString()!);
        object Query(byte[] data, string pem) => new
        {
            origin = head.Origin,
            publicKeyPem = pem,
            leaf = Convert.ToBase64String(data),
            index,
            treeSize = head.Size,
            rootHash = Convert.ToBase64String(head.RootHash),
            hashes = proof.GetProperty("hashes").EnumerateArray().Select(h => h.GetString()).ToArray(),
            checkpoint,
        };

        Assert.Equal($"OK {head.Size}", await SigstoreAsync(Query(leaf, key.GetProperty("publicKeyPem").GetString()!)));
        Assert.StartsWith("FAILED TLOG_INCLUSION_PROOF_ERROR calculated root hash", await SigstoreAsync(Query(Encoding.UTF8.GetBytes(entry.GetProperty("event").GetString()!.Replace("success", "denied")), key.GetProperty("publicKeyPem").GetString()!)));
        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        Assert.StartsWith("FAILED TLOG_INCLUSION_PROOF_ERROR invalid checkpoint signature", await SigstoreAsync(Query(leaf, other.ExportSubjectPublicKeyInfoPem())));
    }

    [Fact]
    public async Task An_event_the_metadata_service_publishes_as_a_CA_event_is_logged_as_refused_and_a_borrowed_user_id_is_refused_by_the_broker()
    {
        var auditor = AuditTrailClient.For(system, TestTenants.TenantB);
        var forgedId = Guid.CreateVersion7();
        var forged = JsonSerializer.SerializeToUtf8Bytes(new
        {
            messageId = Guid.NewGuid(),
            messageType = new[] { "urn:message:Keyward.AuditTrail:AuditEvent" },
            message = new
            {
                eventId = forgedId,
                tenantId = TestTenants.TenantB,
                occurredAt = DateTimeOffset.UtcNow,
                actor = new { userId = "ca-admin", roles = new[] { "admin" }, clientAddress = (string?)null, userAgent = (string?)null },
                action = "ca.tenant_key.generated",
                target = new { type = "tenant_key", id = "forged" },
                outcome = new { result = "success", reason = (string?)null },
                details = new Dictionary<string, string>(),
                traceId = (string?)null,
                service = "certificate-authority",
            },
        });
        await PublishAsAsync("metadata", "Keyward.AuditTrail:AuditEvent", forged);

        var refused = Assert.Single(await auditor.WaitForAsync($"targetId={forgedId:D}", 1));
        Assert.Equal("audit.event.refused", refused.GetProperty("action").GetString());
        Assert.Equal("keyward_metadata", refused.GetProperty("actor").GetString());
        Assert.Contains("published as broker user 'keyward_metadata', not the certificate-authority service's", refused.GetProperty("reason").GetString());
        Assert.Empty(await auditor.QueryAsync("actor=ca-admin"));

        // Claiming another user in the message's user_id: RabbitMQ itself refuses the message.
        await using var impostor = await ConnectAsync("metadata");
        await using var impostorChannel = await impostor.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var borrowed = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await impostorChannel.BasicPublishAsync("Keyward.AuditTrail:AuditEvent", "", mandatory: false,
                new BasicProperties { UserId = ServiceEnvironment.ServiceAccount("certificate-authority") }, forged);
            await Task.Delay(500);
            await impostorChannel.BasicPublishAsync("Keyward.AuditTrail:AuditEvent", "", mandatory: false, new BasicProperties(), "{}"u8.ToArray());
        });
        Assert.Contains("PRECONDITION_FAILED", borrowed.ToString());
    }

    [Fact]
    public async Task A_batch_the_metadata_service_publishes_is_logged_event_by_event_and_a_CA_event_smuggled_into_it_as_refused()
    {
        // Adversary: the metadata service's broker credentials, hiding another service's event among its own in one batch.
        var auditor = AuditTrailClient.For(system, TestTenants.TenantB);
        var (ownId, smuggledId) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        object Event(Guid id, string action, string service) => new
        {
            eventId = id,
            tenantId = TestTenants.TenantB,
            occurredAt = DateTimeOffset.UtcNow,
            actor = new { userId = "batch-writer", roles = Array.Empty<string>(), clientAddress = (string?)null, userAgent = (string?)null },
            action,
            target = new { type = "folder", id = id.ToString("D") },
            outcome = new { result = "success", reason = (string?)null },
            details = new Dictionary<string, string>(),
            traceId = (string?)null,
            service,
        };
        var batch = JsonSerializer.SerializeToUtf8Bytes(new
        {
            messageId = Guid.NewGuid(),
            messageType = new[] { "urn:message:Keyward.AuditTrail:AuditEventBatch" },
            message = new { events = new[] { Event(ownId, "metadata.lock.acquired", "metadata"), Event(smuggledId, "ca.tenant_key.generated", "certificate-authority") } },
        });
        await PublishAsAsync("metadata", "Keyward.AuditTrail:AuditEventBatch", batch);

        var own = Assert.Single(await auditor.WaitForAsync($"targetId={ownId:D}", 1));
        var smuggled = Assert.Single(await auditor.WaitForAsync($"targetId={smuggledId:D}", 1));
        Assert.Equal("metadata.lock.acquired", own.GetProperty("action").GetString());
        Assert.Equal("audit.event.refused", smuggled.GetProperty("action").GetString());
        Assert.Contains("published as broker user 'keyward_metadata', not the certificate-authority service's", smuggled.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_CA_event_the_keyserver_carries_is_logged_only_with_the_CA_s_receipt_for_exactly_that_event()
    {
        // Adversary: the keyserver's broker credentials (or the keyserver itself), which carries the CA's certificate
        // events to the log. It may deliver what the CA said; it may not change it, nor make up CA events.
        var auditor = AuditTrailClient.For(system, TestTenants.TenantB);
        var user = NewUser("carried");
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={user}", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        var ca = new Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient(Grpc.Net.Client.GrpcChannel.ForAddress(system.Service("certificate-authority").GrpcAddress));
        var signed = await ca.SignUserCsrAsync(new Keyward.CertificateAuthority.V1.SignUserCsrRequest { CsrPem = csr, UserId = user, ReturnAuditEvents = true },
            new Grpc.Core.Metadata { { "authorization", $"Bearer {system.Tenants.ServiceToken(TestTenants.TenantB)}" } });
        var handed = signed.AuditEvents.Select(e => (Event: System.Text.Json.Nodes.JsonNode.Parse(e.CanonicalEvent.Span)!.AsObject(), Receipt: e.Receipt.ToBase64()))
            .Single(e => (string?)e.Event["action"] == "ca.certificate.signed");

        var genuine = handed.Event.DeepClone().AsObject();
        genuine["receipt"] = handed.Receipt;
        var (alteredId, madeUpId) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        var altered = genuine.DeepClone().AsObject(); // the same receipt on another user's certificate
        altered["eventId"] = alteredId.ToString("D");
        altered["target"]!["id"] = "victim";
        var madeUp = handed.Event.DeepClone().AsObject(); // a CA event the CA never saw, without a receipt
        madeUp["eventId"] = madeUpId.ToString("D");
        madeUp["action"] = "ca.certificate.reissued";
        var batch = JsonSerializer.SerializeToUtf8Bytes(new
        {
            messageId = Guid.NewGuid(),
            messageType = new[] { "urn:message:Keyward.AuditTrail:AuditEventBatch" },
            message = new { events = new[] { genuine, altered, madeUp } },
        });
        await PublishAsAsync("keyserver", "Keyward.AuditTrail:AuditEventBatch", batch);

        var delivered = Assert.Single(await auditor.WaitForAsync($"targetId={user}&actionPrefix=ca.", 1));
        Assert.Equal("ca.certificate.signed", delivered.GetProperty("action").GetString());
        Assert.Equal("certificate-authority", delivered.GetProperty("service").GetString());
        using (var leaf = JsonDocument.Parse(delivered.GetProperty("event").GetString()!))
        {
            Assert.Equal(signed.SerialNumber, leaf.RootElement.GetProperty("details").GetProperty("serial").GetString());
            Assert.False(leaf.RootElement.TryGetProperty("receipt", out _)); // the receipt vouched on the way; the leaf is the canonical event
        }

        foreach (var (id, claimed) in new[] { (alteredId, "ca.certificate.signed"), (madeUpId, "ca.certificate.reissued") })
        {
            var refused = Assert.Single(await auditor.WaitForAsync($"targetId={id:D}", 1));
            Assert.Equal("audit.event.refused", refused.GetProperty("action").GetString());
            using var leaf = JsonDocument.Parse(refused.GetProperty("event").GetString()!);
            Assert.Equal(claimed, leaf.RootElement.GetProperty("details").GetProperty("claimed_action").GetString());
            Assert.Contains("carried by the keyserver service without a valid receipt of the certificate-authority service", refused.GetProperty("reason").GetString());
        }

        Assert.Empty(await auditor.QueryAsync("targetId=victim&actionPrefix=ca."));
    }

    [Fact]
    public async Task A_flood_of_forged_tokens_with_a_6_KB_subject_is_one_row_per_source_with_a_count_and_a_cut_subject()
    {
        var subject = "flood-" + Guid.NewGuid().ToString("N")[..8] + new string('x', 6000);
        var forged = system.Tenants.Token(subject, tenant: TestTenants.TenantC, lifetime: TimeSpan.FromMinutes(-5));
        using (var http = system.Http(system.Gateway, forged))
        {
            for (var i = 0; i < 25; i++)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/keys/whoami")).StatusCode);
            }
        }

        var auditor = AuditTrailClient.For(system, TestTenants.TenantC);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<JsonElement> rows;
        while ((rows = (await auditor.QueryAsync("actionPrefix=auth.token.refused&descending=true&pageSize=200"))
                   .Where(e => e.GetProperty("actor").GetString()!.StartsWith(subject[..14], StringComparison.Ordinal)).ToList()).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the refused tokens never reached the trail");
            await Task.Delay(250);
        }

        await Task.Delay(2500);
        rows = (await auditor.QueryAsync("actionPrefix=auth.token.refused&descending=true&pageSize=200"))
            .Where(e => e.GetProperty("actor").GetString()!.StartsWith(subject[..14], StringComparison.Ordinal)).ToList();
        var row = Assert.Single(rows);
        Assert.Equal(256, Encoding.UTF8.GetByteCount(row.GetProperty("actor").GetString()!));
        using var leaf = JsonDocument.Parse(row.GetProperty("event").GetString()!);
        Assert.Equal("25", leaf.RootElement.GetProperty("details").GetProperty("count").GetString());
        Assert.Equal("false", leaf.RootElement.GetProperty("details").GetProperty("subject_verified").GetString());
    }

    private static async Task<TreeHead> CheckpointAsync(AuditTrailClient auditor)
    {
        var note = await auditor.Http.GetStringAsync("/v1/audit/checkpoint");
        Assert.True(SignedNote.TryParse(note, out var parsed), note);
        Assert.True(TreeHead.TryParse(parsed.Body, out var head), note);
        return head;
    }

    private static async Task WaitForCheckpointAsync(AuditTrailClient auditor, long atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Long((await auditor.HeadAsync()).GetProperty("lastCheckpointSequence")) < atLeast)
        {
            Assert.True(DateTime.UtcNow < deadline, "no checkpoint was signed");
            await Task.Delay(100);
        }
    }

    private async Task SuperuserAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(system.Stack.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }

    private async Task<string> SigstoreAsync(object query)
    {
        var verifier = system.Stack.Values.Required("KEYWARD_SIGSTORE_VERIFY");
        var script = Path.Combine(AppContext.BaseDirectory, "Tools", "sigstore-check.js");
        var start = new ProcessStartInfo("node", [script, verifier]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(JsonSerializer.Serialize(query));
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(error.Length == 0, error);
        return output.Trim();
    }

    /// <summary>Publishes a MassTransit envelope as the service's own broker user, confirmed by the broker.</summary>
    private async Task PublishAsAsync(string service, string exchange, byte[] envelope)
    {
        await using var connection = await ConnectAsync(service);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", UserId = ServiceEnvironment.ServiceAccount(service), Persistent = true };
        await channel.BasicPublishAsync(exchange, "", mandatory: false, properties, envelope);
    }

    private Task<IConnection> ConnectAsync(string service) =>
        new ConnectionFactory { Uri = new Uri(ServiceEnvironment.AsServiceUser(system.Stack.RabbitMq, service, system.Stack.Values.Required("KEYWARD_RABBITMQ_SERVICE_PASSWORD"))) }
            .CreateConnectionAsync();
}
