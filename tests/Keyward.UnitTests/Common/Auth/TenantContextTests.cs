using System.Security.Claims;
using Keyward.Common.Auth;

namespace Keyward.UnitTests.Common.Auth;

public sealed class TenantContextTests
{
    [Fact]
    public void A_context_survives_the_round_trip_through_a_principal()
    {
        var context = new TenantContext("acme", "alice", new HashSet<string> { "user", "admin" });

        var back = TenantContext.FromPrincipal(context.ToPrincipal("test"));

        Assert.Equal("acme", back.TenantId);
        Assert.Equal("alice", back.UserId);
        Assert.True(back.IsAdmin);
        Assert.True(context.ToPrincipal("test").IsInRole("admin"));
    }

    [Fact]
    public void An_anonymous_principal_has_no_tenant_context()
    {
        Assert.Throws<InvalidOperationException>(() => TenantContext.FromPrincipal(new ClaimsPrincipal(new ClaimsIdentity())));
    }

    [Fact]
    public void WhoAmI_lists_roles_in_a_stable_order()
    {
        var context = new TenantContext("acme", "alice", new HashSet<string> { "user", "auditor", "admin" });

        var described = context.Describe("keyserver");

        Assert.Equal("keyserver", described.Service);
        Assert.Equal(["admin", "auditor", "user"], described.Roles);
    }
}
