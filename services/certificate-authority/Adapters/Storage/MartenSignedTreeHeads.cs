using JasperFx;
using Keyward.CertificateAuthority.Core;
using Keyward.Common.Storage;
using Marten;

namespace Keyward.CertificateAuthority.Adapters.Storage;

/// <summary>The newest signed head per origin, one document each, in the CA's own schema (not the audit service's).</summary>
public sealed class StoredTreeHead
{
    public string Id { get; set; } = "";

    public long Size { get; set; }

    public byte[] RootHash { get; set; } = [];

    public string SignedNote { get; set; } = "";

    public DateTimeOffset SignedAt { get; set; }
}

/// <summary>Compare-and-swap on the document's version: two replicas signing at once cannot both move the head.</summary>
public sealed class MartenSignedTreeHeads(TenantSessions sessions, TimeProvider clock) : ISignedTreeHeads
{
    public async Task<SignedHead?> LatestAsync(string origin, CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenQuerySession();
        var stored = await session.LoadAsync<StoredTreeHead>(origin, cancellationToken);
        return stored is null ? null : new SignedHead(stored.Id, stored.Size, stored.RootHash, stored.SignedNote);
    }

    public async Task<bool> SaveAsync(SignedHead head, long? previousSize, CancellationToken cancellationToken)
    {
        await using var session = sessions.OpenSession();
        var stored = await session.LoadAsync<StoredTreeHead>(head.Origin, cancellationToken);
        if (stored?.Size != previousSize)
        {
            return false;
        }

        var next = stored ?? new StoredTreeHead { Id = head.Origin };
        next.Size = head.Size;
        next.RootHash = head.RootHash;
        next.SignedNote = head.SignedNote;
        next.SignedAt = clock.GetUtcNow();
        if (stored is null)
        {
            session.Insert(next);
        }
        else
        {
            session.Store(next);
        }

        try
        {
            await session.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (Exception e) when (e is ConcurrencyException or DocumentAlreadyExistsException)
        {
            return false;
        }
    }
}
