namespace Keyward.Audit.Core;

/// <summary>What the audit use cases read of a tenant's chain. The Npgsql adapter is <c>Adapters/ChainStore</c>.</summary>
public interface IChainReader
{
    Task<(long Sequence, byte[] Hash)> HeadAsync(string tenantId, CancellationToken cancellationToken);

    /// <summary>The hash of entry <paramref name="sequence"/> (0 is the genesis), or null when it is missing.</summary>
    Task<byte[]?> HashAtAsync(string tenantId, long sequence, CancellationToken cancellationToken);

    IAsyncEnumerable<StoredEntry> RangeAsync(string tenantId, long from, long to, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredCheckpoint>> CheckpointsAsync(string tenantId, long from, long to, CancellationToken cancellationToken);

    Task<StoredCheckpoint?> LastCheckpointAsync(string tenantId, CancellationToken cancellationToken);

    /// <summary>Up to <c>PageSize + 1</c> entries (one more shows that a next page exists).</summary>
    Task<IReadOnlyList<QueriedEntry>> QueryAsync(string tenantId, EntryFilter filter, CancellationToken cancellationToken);
}

/// <summary>The tenant's checkpoint public key (held by the CA's HSM).</summary>
public interface ICheckpointKeys
{
    Task<string> PublicKeyPemAsync(CancellationToken cancellationToken);
}
