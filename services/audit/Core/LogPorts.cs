using Keyward.Transparency;

namespace Keyward.Audit.Core;

/// <summary>What the use cases read of a tenant's logs. The Npgsql adapter is <c>Adapters/LogStore</c>.</summary>
public interface ILogReader
{
    Task<LogState?> HeadAsync(string tenantId, string log, CancellationToken cancellationToken);

    Task<StoredCheckpoint?> LastCheckpointAsync(string tenantId, string log, CancellationToken cancellationToken);

    Task<StoredCheckpoint?> CheckpointAsync(string tenantId, string log, long size, CancellationToken cancellationToken);

    /// <summary>Checkpoints of sizes in [<paramref name="fromSize"/>, <paramref name="toSize"/>], by size.</summary>
    Task<IReadOnlyList<StoredCheckpoint>> CheckpointsAsync(string tenantId, string log, long fromSize, long toSize, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> CosignaturesAsync(string tenantId, string log, long size, CancellationToken cancellationToken);

    /// <summary>The newest checkpoint (or the one of <paramref name="size"/>) with its witnesses' cosignature lines after its own, in one read.</summary>
    Task<StoredCheckpoint?> CosignedCheckpointAsync(string tenantId, string log, long? size, CancellationToken cancellationToken);

    /// <summary>Leaves [from, to) in order, each with its stored leaf hash.</summary>
    IAsyncEnumerable<StoredLeaf> LeavesAsync(string tenantId, string log, long from, long to, CancellationToken cancellationToken);

    /// <summary>Up to <c>PageSize + 1</c> leaves matching the filter (one more shows that a next page exists).</summary>
    Task<IReadOnlyList<StoredLeaf>> QueryAsync(string tenantId, string log, EntryFilter filter, CancellationToken cancellationToken);

    ILogNodes Nodes(string tenantId, string log);
}

/// <summary>The tenant's log key and what the CA last signed (the CA keeps its own record, out of this service's database).</summary>
public interface ILogKeys
{
    Task<string> PublicKeyPemAsync(CancellationToken cancellationToken);

    /// <summary>The newest signed note the CA made for the origin, or null.</summary>
    Task<string?> LatestSignedAsync(string origin, CancellationToken cancellationToken);
}
