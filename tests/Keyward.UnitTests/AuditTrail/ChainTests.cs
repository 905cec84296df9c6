using System.Security.Cryptography;
using System.Text;
using Keyward.Audit.Core;
using Keyward.AuditTrail;

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
    public void Each_hash_is_SHA256_of_the_previous_hash_and_the_canonical_bytes()
    {
        var canonical = CanonicalAuditEvent.ToBytes(Event(0));

        var hash = ChainHash.Next(ChainHash.Genesis, canonical);

        Assert.Equal(SHA256.HashData([.. new byte[32], .. canonical]), hash);
    }

    [Fact]
    public void A_batch_is_chained_in_time_order_without_redelivered_or_repeated_events()
    {
        var early = Event(1);
        var late = Event(2);
        var already = Event(3);

        var entries = ChainAppend.Entries(41, ChainHash.Genesis, [late, early, late, already], new HashSet<Guid> { already.EventId });

        Assert.Equal([42L, 43L], entries.Select(e => e.Sequence));
        Assert.Equal([early.EventId, late.EventId], entries.Select(e => e.Event.EventId));
        Assert.Equal(entries[0].Hash, entries[1].PreviousHash);
    }

    [Fact]
    public void The_verifier_accepts_an_intact_stretch_and_finds_a_changed_entry_a_gap_and_a_broken_link()
    {
        var entries = ChainAppend.Entries(0, ChainHash.Genesis, Enumerable.Range(0, 5).Select(i => Event(i)), new HashSet<Guid>());

        Assert.Null(Verify(entries));

        var changed = entries.ToList();
        changed[2] = changed[2] with { Canonical = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(changed[2].Canonical).Replace("success", "denied")) };
        Assert.Equal(new ChainBreak(3, "its hash does not match its content"), Verify(changed));

        Assert.Equal(new ChainBreak(3, "entry 3 is missing (found 4)"), Verify(entries.Where(e => e.Sequence != 3).ToList()));

        var relinked = entries.ToList();
        relinked[3] = relinked[3] with { PreviousHash = new byte[32] };
        Assert.Equal(4, Verify(relinked)!.Sequence);
    }

    [Fact]
    public void A_checkpoint_must_be_signed_by_the_tenant_key_and_match_the_chain()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entries = ChainAppend.Entries(0, ChainHash.Genesis, [Event(0), Event(1)], new HashSet<Guid>());
        var checkpoint = new Checkpoint("acme", 2, entries[1].Hash, T0).ToBytes();
        var signature = key.SignData(checkpoint, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        using var verifier = new ChainVerifier("acme", 1, ChainHash.Genesis, key.ExportSubjectPublicKeyInfoPem());
        foreach (var entry in entries)
        {
            Assert.True(verifier.Entry(entry.Sequence, entry.Canonical, entry.PreviousHash, entry.Hash));
        }

        Assert.True(verifier.CheckpointAt(2, verifier.RunningHash, checkpoint, signature));
        Assert.False(new ChainVerifier("acme", 1, ChainHash.Genesis, ECDsa.Create().ExportSubjectPublicKeyInfoPem()).CheckpointAt(2, entries[1].Hash, checkpoint, signature));
        Assert.True(Checkpoint.TryParse(checkpoint, out var parsed));
        Assert.Equal(2, parsed.Sequence);
        Assert.False(Checkpoint.TryParse(Encoding.UTF8.GetBytes("keyward-audit-checkpoint/v1\nacme\n2\nzz\nnow\n"), out _));
    }

    [Fact]
    public void An_export_verifies_offline_and_a_truncated_one_does_not()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entries = ChainAppend.Entries(0, ChainHash.Genesis, Enumerable.Range(0, 4).Select(i => Event(i)), new HashSet<Guid>());
        var checkpoint = new Checkpoint("acme", 4, entries[3].Hash, T0).ToBytes();
        var lines = new List<string> { AuditExport.Header("acme", 1, 4, ChainHash.Genesis, key.ExportSubjectPublicKeyInfoPem(), "kid") };
        lines.AddRange(entries.Select(e => AuditExport.Entry(e.Sequence, e.Event.EventId, e.Canonical, e.PreviousHash, e.Hash)));
        lines.Add(AuditExport.CheckpointRecord(4, entries[3].Hash, T0, checkpoint, key.SignData(checkpoint, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence), "kid"));

        var valid = AuditExport.Verify(new StringReader(string.Join('\n', lines)));
        var truncated = AuditExport.Verify(new StringReader(string.Join('\n', lines.Take(3))));

        Assert.Equal("VALID: tenant acme, entries 1..4, 1 signed checkpoint(s)", valid.Summary);
        Assert.Equal("BROKEN at entry 3: the export ends at entry 2, its header promises 4", truncated.Summary);
        Assert.False(AuditExport.Verify(new StringReader("not an export")).IsValid);
    }

    private static ChainBreak? Verify(IReadOnlyList<ChainEntry> entries)
    {
        using var verifier = new ChainVerifier("acme", 1, ChainHash.Genesis, null);
        foreach (var entry in entries)
        {
            if (!verifier.Entry(entry.Sequence, entry.Canonical, entry.PreviousHash, entry.Hash))
            {
                break;
            }
        }

        return verifier.Break;
    }
}
