using System.Text.Json;
using System.Security.Cryptography;
using System.Text;
using Keyward.Audit.Core;
using Keyward.AuditTrail;
using Keyward.Transparency;

namespace Keyward.UnitTests.AuditTrail;

public sealed class ChainTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static AuditEvent Event(int minute, string action = "keys.private_key.fetched", string tenant = "acme") => new()
    {
        EventId = Guid.CreateVersion7(T0.AddMinutes(minute)),
        TenantId = tenant,
        OccurredAt = T0.AddMinutes(minute),
        Actor = new AuditActor("alice", ["user", "admin"], "10.0.0.1", "mirall/3.13"),
        Action = action,
        Target = new AuditTarget("private_key", "alice"),
        Outcome = AuditOutcome.Success,
        Details = new Dictionary<string, string> { ["size"] = "3126", ["a"] = "first" },
        TraceId = null,
        Service = "keyserver",
    };

    [Fact]
    public void Canonical_bytes_are_compact_with_sorted_keys_and_sorted_roles()
    {
        var text = Encoding.UTF8.GetString(CanonicalAuditEvent.ToBytes(Event(0)));

        Assert.StartsWith("""{"action":"keys.private_key.fetched","actor":{"clientAddress":"10.0.0.1","roles":["admin","user"],"userAgent":"mirall/3.13","userId":"alice"},"details":{"a":"first","size":"3126"},"eventId":""", text);
        Assert.EndsWith("\",\"occurredAt\":\"2026-11-27T12:00:00.0000000Z\",\"outcome\":{\"reason\":null,\"result\":\"success\"},\"service\":\"keyserver\",\"target\":{\"id\":\"alice\",\"type\":\"private_key\"},\"tenantId\":\"acme\",\"traceId\":null}", text);
    }

    [Fact]
    public void The_same_event_always_gives_the_same_bytes()
    {
        var auditEvent = Event(1);

        Assert.Equal(CanonicalAuditEvent.ToBytes(auditEvent), CanonicalAuditEvent.ToBytes(auditEvent with { Details = auditEvent.Details.Reverse().ToDictionary() }));
    }

    [Fact]
    public void Canonical_bytes_read_back_to_the_same_event_and_nothing_else_does()
    {
        var canonical = CanonicalAuditEvent.ToBytes(Event(0));

        Assert.True(CanonicalAuditEventReader.TryParse(canonical, out var read));
        Assert.Equal(canonical, CanonicalAuditEvent.ToBytes(read));
        Assert.False(CanonicalAuditEventReader.TryParse(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(canonical).Replace("{\"action\"", "{ \"action\"")), out _));
        Assert.False(CanonicalAuditEventReader.TryParse("{}"u8, out _));
    }

    [Fact]
    public void A_batch_is_logged_without_redelivered_or_repeated_events_and_identity_events_go_to_the_keys_log()
    {
        var early = Event(1);
        var late = Event(2, "keys.certificate.issued") with { Details = new Dictionary<string, string> { ["fingerprint_sha256"] = "ab12" } };
        var already = Event(3);
        var head = LogIntegration.Integrate(null, Enumerable.Range(10, 41).Select(i => Leaves.Audit(Event(i))), new HashSet<Guid>()).State;

        var batch = LogIntegration.Integrate(head, new[] { early, late, late, already }.Select(Leaves.Audit), new HashSet<Guid> { already.EventId });

        Assert.Equal(41, batch.FirstIndex);
        Assert.Equal([early.EventId, late.EventId], batch.Leaves.Select(l => l.EventId));
        Assert.Equal(43, batch.State.Size);
        Assert.Contains(batch.Nodes, n => n.Node == new NodeId(1, 20));
        Assert.Null(Leaves.Identity(early));
        var identity = Leaves.Identity(late)!;
        Assert.True(IdentityEntry.TryParse(identity.Data, out var entry));
        Assert.Equal(("alice", "ab12", "keys.certificate.issued"), (entry.User, entry.Subject, entry.Action));
        Assert.True(Leaves.Agree(LogOrigins.KeysLog, identity.Columns, Leaves.ColumnsOf(LogOrigins.KeysLog, identity.Data)!));
    }

    [Fact]
    public void An_export_verifies_offline_against_the_pinned_key_only_and_a_truncated_or_edited_one_does_not()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        const string Origin = "keyward.test/acme/audit";
        var leaves = Enumerable.Range(0, 6).Select(i => CanonicalAuditEvent.ToBytes(Event(i))).ToList();
        var tree = new CompactRange();
        var lines = new List<string>();
        for (var i = 0; i < leaves.Count; i++)
        {
            lines.Add(AuditExport.Leaf(i, leaves[i]));
            tree.Append(MerkleHash.Leaf(leaves[i]));
            if (i is 3 or 5)
            {
                var body = new TreeHead(Origin, tree.Size, tree.Root()).ToBody();
                var signature = key.SignData(Encoding.UTF8.GetBytes(body), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                var note = new SignedNote(body, [new NoteSignature(Origin, EcdsaNoteVerifier.KeyIdOf(key.ExportSubjectPublicKeyInfo()), signature)]).ToString();
                lines.Add(AuditExport.CheckpointRecord(tree.Size, note));
            }
        }

        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        string Export(IEnumerable<string> body) => string.Join('\n', [AuditExport.Header(Origin, 0, 6, [], key.ExportSubjectPublicKeyInfoPem(), fingerprint), .. body]);

        Assert.StartsWith("VALID: log keyward.test/acme/audit", AuditExport.Verify(new StringReader(Export(lines)), null, fingerprint).Summary);
        Assert.Equal("BROKEN at leaf 0: no log key is pinned: pass the tenant's log key or its fingerprint (an export cannot vouch for itself)",
            AuditExport.Verify(new StringReader(Export(lines)), null, null).Summary);
        Assert.StartsWith("BROKEN at leaf 0: the export's log key", AuditExport.Verify(new StringReader(Export(lines)), null, new string('0', 64)).Summary);
        Assert.StartsWith("BROKEN at leaf 3: the export ends before leaf 3", AuditExport.Verify(new StringReader(Export(lines.Take(3))), null, fingerprint).Summary);
        var edited = lines.ToList();
        edited[1] = edited[1].Replace("success", "denied");
        Assert.StartsWith("BROKEN at leaf 3: the leaves up to 3 do not hash", AuditExport.Verify(new StringReader(Export(edited)), null, fingerprint).Summary);
        Assert.False(AuditExport.Verify(new StringReader("not an export"), null, fingerprint).IsValid);

        // Members in another order, and escapes other than the writer's, are the same record; a wrong type is not.
        var reordered = lines.ToList();
        var first = JsonSerializer.Deserialize<AuditExport.LeafLine>(lines[0], AuditExport.Json)!;
        reordered[0] = $"{{\"event\":{JsonSerializer.Serialize(first.Event, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default })},\"index\":0,\"type\":\"leaf\"}}";
        Assert.StartsWith("VALID", AuditExport.Verify(new StringReader(Export(reordered)), null, fingerprint).Summary);
        var badIndex = lines.ToList();
        badIndex[0] = badIndex[0].Replace("\"index\":0", "\"index\":\"0\"");
        Assert.Equal("BROKEN at leaf 0: line 2 is not a valid export record", AuditExport.Verify(new StringReader(Export(badIndex)), null, fingerprint).Summary);
        Assert.Equal("BROKEN at leaf 0: line 2 is not a valid export record", AuditExport.Verify(new StringReader(Export(["{\"type\":\"leaf\",\"index\":0}", .. lines[1..]])), null, fingerprint).Summary);
    }

    [Fact]
    public void Export_lines_are_split_across_chunks_with_crlf_a_line_longer_than_a_chunk_and_no_final_newline()
    {
        var big = new string('x', 5 * 1024 * 1024);
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes($"a\r\nbb\n\n{big}\nlast"));
        var lines = new ExportLines(stream);
        var read = new List<string> { lines.First()! };
        while (lines.NextChunk() is { Count: > 0 } chunk)
        {
            read.AddRange(chunk.Select(l => Encoding.UTF8.GetString(l.Span)));
        }

        Assert.Equal(["a", "bb", "", big, "last"], read);
    }
}
