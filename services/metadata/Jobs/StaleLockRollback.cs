using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Keyward.AuditTrail;
using Keyward.Metadata.Adapters;
using Keyward.Metadata.Core;
using Marten;
using Microsoft.Extensions.Options;

namespace Keyward.Metadata.Jobs;

/// <summary>How long a lock may stand before it is rolled back, and how often to look (<c>Keyward:Metadata:StaleLocks</c>).</summary>
public sealed class StaleLockOptions
{
    public const string Section = "Keyward:Metadata:StaleLocks";

    /// <summary>The reference's default is 24 hours (§b, automatic_rollback_ttl).</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(24);

    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    public bool Enabled { get; set; } = true;

    /// <summary>A tenant's own TTL (<c>Keyward:Metadata:StaleLocks:Tenants:&lt;tenant&gt;</c>), for instances whose clients crash often or never.</summary>
    public Dictionary<string, TimeSpan> Tenants { get; set; } = new(StringComparer.Ordinal);

    public TimeSpan TtlFor(string tenantId) => Tenants.TryGetValue(tenantId, out var ttl) ? ttl : Ttl;

    public bool IsValid => Ttl > TimeSpan.Zero && Interval > TimeSpan.Zero && Tenants.Values.All(t => t > TimeSpan.Zero);
}

/// <summary>
/// Rolls back locks older than their tenant's TTL in every configured tenant: pending metadata and counters under
/// the stale token are dropped, its locks removed, and each rollback is audited. This is what users of the reference
/// server do by hand in its lock table when a crashed client leaves a folder locked.
/// </summary>
public sealed class StaleLockRollback(IDocumentStore store, IOptions<StaleLockOptions> options, TenantRegistry tenants, TimeProvider clock, ILogger<StaleLockRollback> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.Interval);
        do
        {
            try
            {
                var rolledBack = await SweepAsync(stoppingToken);
                if (rolledBack > 0)
                {
                    logger.LogInformation("Rolled back {Count} stale lock tokens", rolledBack);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Stale-lock sweep failed; retrying at the next interval");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// One pass over the tenants, each with its own cutoff (a query per tenant: one cutoff for all would either miss a
    /// tenant's shorter TTL or keep finding trees a longer TTL must leave alone).
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var count = 0;
        foreach (var tenantId in tenants.TenantIds)
        {
            var cutoff = clock.GetUtcNow() - options.Value.TtlFor(tenantId);
            IReadOnlyList<string> stale;
            await using (var query = store.QuerySession(tenantId))
            {
                stale = await query.Query<TreeLocks>().Where(t => t.OldestLockAt != null && t.OldestLockAt < cutoff)
                    .Select(t => t.Id).Take(100).ToListAsync(cancellationToken);
            }

            foreach (var rootId in stale)
            {
                count += await RollBackTreeAsync(tenantId, rootId, cutoff, cancellationToken);
            }
        }

        return count;
    }

    private async Task<int> RollBackTreeAsync(string tenantId, string rootId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        try
        {
            await using var session = store.LightweightSession(tenantId);
            var blobs = new HashSet<string>(StringComparer.Ordinal);
            var tree = await MartenFolderStore.LoadTreeAsync(session, rootId, cancellationToken, blobs);
            if (tree is null)
            {
                return 0;
            }

            var tokens = tree.Locks.StaleTokens(cutoff);
            foreach (var token in tokens)
            {
                var lockedFolders = tree.Locks.Locks.Where(l => l.Token == token).Select(l => l.FolderId);
                foreach (var folder in await MartenFolderStore.LoadFoldersAsync(session, tree, tree.Locks.TouchedBy(token).Concat(lockedFolders), cancellationToken, blobs))
                {
                    MetadataCommit.Abort(folder);
                    MetadataBlobs.Store(session, folder, blobs);
                }

                var lockedBy = tree.Locks.Locks.First(l => l.Token == token);
                tree.Locks.DropToken(token);
                AuditRecorder.Enqueue(session, AuditRecorder.SystemEvent(tenantId, MetadataSetup.ServiceName, "metadata.lock.expired",
                    new AuditTarget("folder", lockedBy.FolderId), AuditOutcome.Success,
                    new Dictionary<string, string> { ["locked_by"] = lockedBy.LockedBy, ["locked_at"] = lockedBy.LockedAt.ToString("O") }, clock));
            }

            session.Store(tree.Locks);
            await session.SaveChangesAsync(cancellationToken);
            return tokens.Count;
        }
        catch (JasperFx.ConcurrencyException)
        {
            // A client changed the tree meanwhile; the next sweep looks again.
            return 0;
        }
    }
}
