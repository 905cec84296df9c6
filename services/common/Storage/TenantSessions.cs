using Keyward.Common.Auth;
using Marten;

namespace Keyward.Common.Storage;

/// <summary>Opens Marten sessions for the caller's tenant only, so no handler can read across tenants by mistake.</summary>
public sealed class TenantSessions(IDocumentStore store, TenantContext caller)
{
    public IDocumentSession OpenSession() => store.LightweightSession(caller.TenantId);

    public IQuerySession OpenQuerySession() => store.QuerySession(caller.TenantId);
}
