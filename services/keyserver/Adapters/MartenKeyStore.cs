using JasperFx;
using Keyward.Common.Audit;
using Keyward.Common.Storage;
using Keyward.Keyserver.Core;
using Marten;

namespace Keyward.Keyserver.Adapters;

/// <summary>The keyserver's documents in Marten, in the caller's tenant; each change commits with its audit events.</summary>
public sealed class MartenKeyStore(TenantSessions sessions, AuditRecorder audit) : IKeyStore
{
    public async Task<T> ChangeAsync<T>(Func<IKeyChange, Task<T>> change, CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenSession();
        try
        {
            return await change(new Change(session, audit));
        }
        catch (DocumentAlreadyExistsException e)
        {
            throw new KeyAlreadyStoredException(e);
        }
    }

    public async Task<T?> LoadAsync<T>(string id, CancellationToken cancellationToken) where T : class
    {
        await using var session = sessions.OpenQuerySession();
        return await session.LoadAsync<T>(id, cancellationToken);
    }

    public async Task<IReadOnlyList<StoredCertificate>> CertificatesAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenQuerySession();
        return await session.LoadManyAsync<StoredCertificate>(cancellationToken, userIds.ToArray());
    }

    public async Task<IReadOnlyList<PublicShare>> SharesAsync(CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenQuerySession();
        return await session.Query<PublicShare>().ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<StoredDeviceRequest>> PendingDeviceRequestsAsync(string userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenQuerySession();
        return await session.Query<StoredDeviceRequest>().Where(r => r.UserId == userId && r.Status == "pending" && r.ExpiresAt > now).ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<StoredRecoveryChange>> OpenRecoveryChangesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenQuerySession();
        return await session.Query<StoredRecoveryChange>().Where(c => (c.Status == "pending" || c.Status == "approved") && c.ExpiresAt > now).ToListAsync(cancellationToken);
    }

    public async Task<StoredRecoveryChange?> ApprovedReleaseAsync(string userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenQuerySession();
        return await session.Query<StoredRecoveryChange>()
            .Where(c => c.Action == RecoveryActions.Release && c.UserId == userId && c.Status == "approved" && c.ExpiresAt > now)
            .FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<StoredEscrowRelease>> EscrowReleasesAsync(string userId, CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenQuerySession();
        return await session.Query<StoredEscrowRelease>().Where(r => r.UserId == userId).OrderBy(r => r.ReleasedAt).ToListAsync(cancellationToken);
    }

    public async Task<KeyStatusFacts> StatusAsync(string userId, CancellationToken cancellationToken)
    {
        // Asked on every capabilities request: one round trip for all four answers.
        await using var session = sessions.OpenQuerySession();
        var batch = session.CreateBatchQuery();
        var hasCertificate = batch.Query<StoredCertificate>().Any(c => c.Id == userId);
        var hasPrivateKey = batch.Query<StoredPrivateKey>().Any(k => k.Id == userId);
        var hasEscrow = batch.Query<StoredEscrow>().Any(e => e.Id == userId);
        var recoveryPolicy = batch.Load<StoredRecoveryPolicy>(StoredRecoveryPolicy.SingletonId);
        await batch.Execute(cancellationToken);
        return new KeyStatusFacts(await hasCertificate, await hasPrivateKey, await recoveryPolicy is { Enabled: true }, await hasEscrow);
    }

    private sealed class Change(IDocumentSession session, AuditRecorder audit) : IKeyChange
    {
        public Task<T?> LoadAsync<T>(string id, CancellationToken cancellationToken) where T : class => session.LoadAsync<T>(id, cancellationToken);

        public void Insert<T>(T document) where T : class => session.Insert(document);

        public void Store<T>(T document) where T : class => session.Store(document);

        public void Delete<T>(string id) where T : class => session.Delete<T>(id);

        public void Record(AuditRecord record) => audit.Record(session, record);

        public void Carry(IReadOnlyList<Keyward.AuditTrail.AuditEvent> events)
        {
            foreach (var carried in events)
            {
                AuditRecorder.Enqueue(session, carried);
            }
        }

        public Task CommitAsync(CancellationToken cancellationToken) => session.SaveChangesAsync(cancellationToken);
    }
}
