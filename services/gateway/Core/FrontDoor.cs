using System.Collections.Concurrent;
using System.Text;

namespace Keyward.Gateway.Core;

/// <summary>
/// A tenant whose callers come through its Nextcloud instance (<c>Keyward:Tenants:&lt;id&gt;:Nextcloud</c>): the instance's
/// address, the host names the gateway answers for it, and the private key the gateway signs its callers' tokens with
/// (its public half is one of the tenant's <c>SigningKeys</c>, so every service checks those tokens as any other).
/// </summary>
public sealed class NextcloudOptions
{
    public string BaseUrl { get; set; } = "";

    public List<string> Hosts { get; set; } = [];

    /// <summary>PEM file with the private key (EC P-256 or RSA) for the tokens of this tenant's delegated callers.</summary>
    public string DelegationKeyFile { get; set; } = "";

    /// <summary>How long an accepted credential is believed without asking the instance again.</summary>
    public TimeSpan IdentityCacheFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a refused credential is refused without asking again (a client retrying a wrong password).</summary>
    public TimeSpan FailureCacheFor { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed record FrontDoorTenant(string TenantId, Uri BaseUrl, IReadOnlyList<string> Hosts, NextcloudOptions Options);

/// <summary>The front-door tenants, found by the host name a request is for (port ignored, case-insensitive).</summary>
public sealed class FrontDoorTenants
{
    private readonly Dictionary<string, FrontDoorTenant> _byHost = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, FrontDoorTenant> _byTenant = new(StringComparer.Ordinal);

    public FrontDoorTenants(IEnumerable<(string TenantId, NextcloudOptions Options)> tenants)
    {
        foreach (var (tenantId, options) in tenants)
        {
            if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            {
                throw new InvalidOperationException($"Keyward:Tenants:{tenantId}:Nextcloud:BaseUrl must be an absolute http(s) URL, not '{options.BaseUrl}'.");
            }

            if (options.Hosts.Count == 0 || string.IsNullOrEmpty(options.DelegationKeyFile))
            {
                throw new InvalidOperationException($"Keyward:Tenants:{tenantId}:Nextcloud needs Hosts (the names it answers for) and DelegationKeyFile.");
            }

            var tenant = new FrontDoorTenant(tenantId, new Uri(baseUrl.ToString().TrimEnd('/') + "/"), options.Hosts, options);
            _byTenant[tenantId] = tenant;
            foreach (var host in options.Hosts)
            {
                if (!_byHost.TryAdd(host, tenant))
                {
                    throw new InvalidOperationException($"The host '{host}' is the front door of two tenants ({_byHost[host].TenantId} and {tenantId}).");
                }
            }
        }
    }

    public IReadOnlyCollection<FrontDoorTenant> All => _byTenant.Values;

    public bool TryGetByHost(string host, out FrontDoorTenant tenant) => _byHost.TryGetValue(host, out tenant!);

    public bool TryGet(string tenantId, out FrontDoorTenant tenant) => _byTenant.TryGetValue(tenantId, out tenant!);
}

/// <summary>How a request to the front door says who it is.</summary>
public enum CredentialKind
{
    None,

    /// <summary>A Keyward JWT (operators, services): checked by the gateway itself, not by the instance.</summary>
    KeywardToken,

    /// <summary><c>Authorization: Basic</c>: login and password or app password.</summary>
    Basic,

    /// <summary><c>Authorization: Bearer</c> with an opaque (OAuth2) token of the instance.</summary>
    Bearer,

    /// <summary>The web client's session cookie (with its request token).</summary>
    Session,
}

public static class NextcloudCredentials
{
    /// <summary>What kind of credential the headers carry, and the login name when Basic names one (for throttling per user).</summary>
    public static (CredentialKind Kind, string? Login) Classify(string? authorization, string? cookie)
    {
        if (!string.IsNullOrEmpty(authorization))
        {
            if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return (LooksLikeJwt(authorization.AsSpan(7).Trim()) ? CredentialKind.KeywardToken : CredentialKind.Bearer, null);
            }

            if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                return (CredentialKind.Basic, BasicLogin(authorization[6..].Trim()));
            }
        }

        return string.IsNullOrEmpty(cookie) ? (CredentialKind.None, null) : (CredentialKind.Session, null);
    }

    /// <summary>Three base64url parts, the first a JSON header: Nextcloud's OAuth2 tokens are 64 letters and digits, never that.</summary>
    public static bool LooksLikeJwt(ReadOnlySpan<char> token)
    {
        var dots = token.Count('.');
        return dots == 2 && token.StartsWith("eyJ", StringComparison.Ordinal);
    }

    private static string? BasicLogin(string encoded)
    {
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            var colon = decoded.IndexOf(':');
            return colon > 0 ? decoded[..colon] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>Brute-force protection for logins through the front door (<c>Keyward:Gateway:LoginThrottle</c>).</summary>
public sealed class LoginThrottleOptions
{
    public const string Section = "Keyward:Gateway:LoginThrottle";

    /// <summary>Refused logins per source address or per login name within <see cref="Window"/> after which the gateway answers 429 without asking.</summary>
    public int MaxAttempts { get; set; } = 10;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The delay before answering a caller with n recent refusals is this × 2^n, at most <see cref="MaxDelay"/> (as the reference's throttler).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(25);

    public bool IsValid => MaxAttempts > 0 && Window > TimeSpan.Zero && BaseDelay >= TimeSpan.Zero && MaxDelay >= BaseDelay;
}

/// <summary>
/// Refused logins remembered per key (a source address, a tenant's login name) for a window: how many there were, how
/// long to make the next answer wait, and when to stop asking the instance at all. Held per process, bounded.
/// </summary>
public sealed class LoginThrottle(LoginThrottleOptions options, TimeProvider clock)
{
    private const int MaxKeys = 100_000;
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _refusals = new(StringComparer.Ordinal);

    public int Attempts(string key)
    {
        if (!_refusals.TryGetValue(key, out var times))
        {
            return 0;
        }

        lock (times)
        {
            Expire(times);
            return times.Count;
        }
    }

    public void RecordRefusal(string key)
    {
        if (_refusals.Count >= MaxKeys)
        {
            Sweep();
        }

        var times = _refusals.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
        lock (times)
        {
            Expire(times);
            times.Enqueue(clock.GetUtcNow());
        }
    }

    public bool IsBlocked(int attempts) => attempts >= options.MaxAttempts;

    public TimeSpan DelayFor(int attempts) => attempts == 0
        ? TimeSpan.Zero
        : TimeSpan.FromTicks((long)Math.Min(options.MaxDelay.Ticks, options.BaseDelay.Ticks * Math.Pow(2, Math.Min(attempts, 30))));

    /// <summary>When the oldest refusal that keeps a key blocked leaves the window.</summary>
    public TimeSpan RetryAfter(string key)
    {
        if (!_refusals.TryGetValue(key, out var times))
        {
            return TimeSpan.Zero;
        }

        lock (times)
        {
            Expire(times);
            return times.Count < options.MaxAttempts ? TimeSpan.Zero : times.ElementAt(times.Count - options.MaxAttempts) + options.Window - clock.GetUtcNow();
        }
    }

    private void Expire(Queue<DateTimeOffset> times)
    {
        var cutoff = clock.GetUtcNow() - options.Window;
        while (times.Count > 0 && times.Peek() <= cutoff)
        {
            times.Dequeue();
        }
    }

    private void Sweep()
    {
        foreach (var (key, times) in _refusals)
        {
            lock (times)
            {
                Expire(times);
                if (times.Count == 0)
                {
                    _refusals.TryRemove(key, out _);
                }
            }
        }
    }
}
