using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.Limits;
using Keyward.Gateway.Core;

namespace Keyward.UnitTests.Gateway;

/// <summary>Which budget each request spends at the edge, and how a budget refills.</summary>
public sealed class EdgeLimitTests
{
    [Theory]
    [InlineData("POST", "/ocs/v2.php/apps/end_to_end_encryption/api/v1/public-key", EdgeLimit.CertificateSigning)]
    [InlineData("POST", "/ocs/v1.php/apps/end_to_end_encryption/api/v2/public-key", EdgeLimit.CertificateSigning)]
    [InlineData("POST", "/v1/keys/certificate", EdgeLimit.CertificateSigning)]
    [InlineData("POST", "/v1/keys/certificates/alice/reissue", EdgeLimit.CertificateSigning)]
    [InlineData("POST", "/keyward.keyserver.v1.Keyserver/CreateCertificate", EdgeLimit.CertificateSigning)]
    [InlineData("GET", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/private-key", EdgeLimit.Enrollment)]
    [InlineData("POST", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/private-key", EdgeLimit.Enrollment)]
    [InlineData("POST", "/v1/keys/devices", EdgeLimit.Enrollment)]
    [InlineData("GET", "/v1/keys/devices/3f2a", EdgeLimit.Enrollment)]
    [InlineData("POST", "/keyward.keyserver.v1.Keyserver/CollectDevice", EdgeLimit.Enrollment)]
    [InlineData("POST", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/lock/123", EdgeLimit.MetadataWrite)]
    [InlineData("DELETE", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/lock/123", EdgeLimit.MetadataWrite)]
    [InlineData("PUT", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/meta-data/123", EdgeLimit.MetadataWrite)]
    [InlineData("PUT", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/meta-data/123/filedrop", EdgeLimit.MetadataWrite)]
    [InlineData("PUT", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/encrypted/123", EdgeLimit.MetadataWrite)]
    [InlineData("DELETE", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/encrypted-files", EdgeLimit.MetadataWrite)]
    [InlineData("POST", "/v1/folders/123/restore", EdgeLimit.MetadataWrite)]
    [InlineData("POST", "/keyward.metadata.v1.MetadataService/Lock", EdgeLimit.MetadataWrite)]
    public void Expensive_requests_spend_their_budget(string method, string path, EdgeLimit expected) =>
        Assert.Equal(expected, EdgeLimitClassifier.Classify(method, path));

    [Theory]
    [InlineData("GET", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/public-key")]
    [InlineData("GET", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/server-key")]
    [InlineData("GET", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/meta-data/123")]
    [InlineData("DELETE", "/ocs/v2.php/apps/end_to_end_encryption/api/v2/public-key")]
    [InlineData("GET", "/ocs/v2.php/cloud/capabilities")]
    [InlineData("GET", "/v1/keys/devices")]
    [InlineData("POST", "/v1/keys/devices/3f2a/approve")]
    [InlineData("GET", "/v1/folders/123/versions")]
    [InlineData("POST", "/keyward.metadata.v1.MetadataService/GetMetadata")]
    [InlineData("POST", "/keyward.keyserver.v1.Keyserver/GetCertificates")]
    [InlineData("GET", "/v1/audit/events")]
    public void Reads_and_cheap_requests_spend_none(string method, string path) =>
        Assert.Null(EdgeLimitClassifier.Classify(method, path));

    [Fact]
    public void A_budget_refills_whole_tokens_each_second_or_one_at_a_time_when_slower()
    {
        var fast = new RateBudget(600, 3_000).ToOptions();
        Assert.Equal((600, 50, TimeSpan.FromSeconds(1)), (fast.TokenLimit, fast.TokensPerPeriod, fast.ReplenishmentPeriod));
        var slow = new RateBudget(10, 2).ToOptions();
        Assert.Equal((10, 1, TimeSpan.FromSeconds(30)), (slow.TokenLimit, slow.TokensPerPeriod, slow.ReplenishmentPeriod));
        Assert.Equal(0, fast.QueueLimit);
        Assert.False(new EdgeLimitOptions { MetadataWritesPerUser = new RateBudget(0, 5) }.IsValid());
        Assert.True(new EdgeLimitOptions().IsValid());
    }

    [Fact]
    public void A_caller_budget_refuses_with_retry_after_once_spent_and_keeps_users_apart()
    {
        using var budget = new CallerBudget(new RateBudget(2, 1), "metadata writes");
        var alice = new TenantContext("t", "alice", new HashSet<string> { KeywardRoles.User });
        budget.Take(alice);
        budget.Take(alice);
        var refusal = Assert.Throws<Refusal>(() => budget.Take(alice));
        Assert.Equal(RefusalKind.Exhausted, refusal.Kind);
        Assert.True(int.Parse(refusal.Details[Refusal.RetryAfterKey], System.Globalization.CultureInfo.InvariantCulture) > 0);
        budget.Take(alice with { UserId = "bob" });
        budget.Take(alice with { TenantId = "other" });
    }
}

/// <summary>The refused-token budget of one source address, as the edge consults it before reading a token.</summary>
public sealed class RefusedTokenBudgetTests
{
    [Fact]
    public async Task A_source_that_spent_its_refused_tokens_is_spent_and_another_is_not()
    {
        using var budget = new Keyward.Gateway.Api.RefusedTokenBudget(Microsoft.Extensions.Options.Options.Create(
            new EdgeLimitOptions { RefusedTokensPerSource = new RateBudget(3, 1) }));
        var forger = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        forger.Connection.RemoteIpAddress = System.Net.IPAddress.Parse("198.51.100.7");
        for (var i = 0; i < 3; i++)
        {
            Assert.False(budget.IsSpent("198.51.100.7", out _));
            await budget.RefusedAsync(forger, TokenCheck.Refused("forged"));
        }

        Assert.True(budget.IsSpent("198.51.100.7", out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero);
        // Still spent a moment later: nothing refills within the minute.
        await Task.Delay(300);
        Assert.True(budget.IsSpent("198.51.100.7", out _));
        Assert.False(budget.IsSpent("198.51.100.8", out _));
    }
}
