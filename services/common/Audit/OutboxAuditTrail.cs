using Marten;

namespace Keyward.Common.Audit;

/// <summary>The audit port on the service's Marten outbox: one transaction per call.</summary>
public sealed class OutboxAuditTrail(IDocumentStore store, AuditRecorder recorder, Auth.TenantContext caller) : IAuditTrail
{
    public async Task RecordAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return;
        }

        await using var session = store.LightweightSession(caller.TenantId);
        foreach (var record in records)
        {
            recorder.Record(session, record);
        }

        await session.SaveChangesAsync(cancellationToken);
    }
}
