using Keyward.Transparency;

namespace Keyward.Tests.Shared;

/// <summary>A tree's nodes in memory, for building proofs in tests without a database.</summary>
internal sealed class MemoryNodes : ILogNodes
{
    public Dictionary<NodeId, byte[]> All { get; } = [];

    public Task<IReadOnlyDictionary<NodeId, byte[]>> ReadAsync(IReadOnlyCollection<NodeId> nodes, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<NodeId, byte[]>>(nodes.ToDictionary(n => n, n => All[n]));
}
