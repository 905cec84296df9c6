using Keyward.CertificateAuthority.Core;

namespace Keyward.UnitTests.CertificateAuthority;

public sealed class SigningBudgetTests
{
    [Fact]
    public void A_user_past_their_hourly_budget_is_told_when_to_come_back_while_others_still_get_signatures()
    {
        using var budget = new SigningBudget(new CaOptions { SignaturesPerUserPerHour = 2, SignaturesPerTenantPerMinute = 100 });

        Assert.Null(budget.TryTake("t", "alice"));
        Assert.Null(budget.TryTake("t", "alice"));
        var wait = budget.TryTake("t", "alice");

        Assert.NotNull(wait);
        Assert.InRange(wait!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.Null(budget.TryTake("t", "bob"));
        Assert.Null(budget.TryTake("other-tenant", "alice"));
    }

    [Fact]
    public void A_tenant_past_its_budget_gets_no_signature_for_any_user()
    {
        using var budget = new SigningBudget(new CaOptions { SignaturesPerUserPerHour = 100, SignaturesPerTenantPerMinute = 3 });

        Assert.All(new[] { "a", "b", "c" }, user => Assert.Null(budget.TryTake("t", user)));

        Assert.NotNull(budget.TryTake("t", "d"));
        Assert.Null(budget.TryTake("u", "d"));
    }
}
