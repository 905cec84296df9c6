using System.Security.Cryptography;
using System.Text;
using Keyward.Gateway.Core;
using Microsoft.Extensions.Caching.Memory;

namespace Keyward.Gateway.Adapters;

/// <summary>
/// The instance's answer to "who is this credential", remembered briefly: accepted ones for the tenant's
/// <c>IdentityCacheFor</c>, refused ones for <c>FailureCacheFor</c>, an unreachable instance not at all. Entries are
/// keyed by an HMAC of the credential under a key made at start-up, so the cache never holds a password or token.
/// </summary>
public sealed class FrontDoorIdentities(NextcloudInstance instance) : IDisposable
{
    private readonly MemoryCache _answers = new(new MemoryCacheOptions { SizeLimit = 100_000 });
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public async Task<WhoIsAnswer> WhoIsAsync(FrontDoorTenant tenant, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        var key = CacheKey(tenant.TenantId, headers);
        if (_answers.TryGetValue(key, out WhoIsAnswer? known) && known is not null)
        {
            return known;
        }

        var answer = await instance.WhoIsAsync(tenant, headers, cancellationToken);
        if (answer.Outcome != WhoIsOutcome.Unreachable)
        {
            var lifetime = answer.Outcome == WhoIsOutcome.Known ? tenant.Options.IdentityCacheFor : tenant.Options.FailureCacheFor;
            _answers.Set(key, answer, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = lifetime });
        }

        return answer;
    }

    private string CacheKey(string tenantId, IHeaderDictionary headers)
    {
        var credential = new StringBuilder(tenantId);
        foreach (var name in NextcloudInstance.CredentialHeaders)
        {
            credential.Append('\n').Append(headers[name].ToString());
        }

        return Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(credential.ToString())));
    }

    public void Dispose() => _answers.Dispose();
}
