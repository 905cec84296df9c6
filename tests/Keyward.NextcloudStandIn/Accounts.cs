using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Keyward.NextcloudStandIn;

public sealed class StandInOptions
{
    public List<StandInUser> Users { get; set; } = [];

    /// <summary>OAuth2 access token → login.</summary>
    public Dictionary<string, string> OAuthTokens { get; set; } = new(StringComparer.Ordinal);

    public string DataDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "keyward-nextcloud-standin");

    /// <summary>Where file ids start (tests that share a Keyward tenant give each stand-in its own range).</summary>
    public long FirstFileId { get; set; } = 100;
}

public sealed class StandInUser
{
    public string Login { get; set; } = "";

    /// <summary>The user id (the DAV uid); as on Nextcloud with LDAP it may differ from the login name.</summary>
    public string Id { get; set; } = "";

    public string DisplayName { get; set; } = "";

    public string Email { get; set; } = "";

    public string Password { get; set; } = "";

    public List<string> AppPasswords { get; set; } = [];

    public List<string> Groups { get; set; } = [];

    public string Uid => Id.Length > 0 ? Id : Login;

    /// <summary><c>data</c> of cloud/user, with the fields the reference lists.</summary>
    public Dictionary<string, object?> Describe() => new()
    {
        ["id"] = Uid,
        ["displayname"] = DisplayName.Length > 0 ? DisplayName : Uid,
        ["display-name"] = DisplayName.Length > 0 ? DisplayName : Uid,
        ["email"] = Email,
        ["groups"] = Groups,
        ["quota"] = new Dictionary<string, object?>(),
        ["language"] = "en",
        ["locale"] = "",
        ["backendCapabilities"] = new Dictionary<string, object?> { ["setDisplayName"] = true, ["setPassword"] = true },
    };
}

public sealed record Session(string Id, string RequestToken, StandInUser User);

/// <summary>Who a request is: Basic (password or app password), an OAuth2 bearer token, or a session cookie with its request token.</summary>
public sealed class Accounts(StandInOptions options)
{
    public const string SessionCookie = "nc_session_id";
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    public Session? SignIn(string login, string password)
    {
        if (Find(login) is not { } user || !Matches(password, user.Password))
        {
            return null;
        }

        var session = new Session(Random(), Random(), user);
        _sessions[session.Id] = session;
        return session;
    }

    /// <summary>The caller, or null. On OCS a session also passes with <c>OCS-APIRequest: true</c> instead of the request token (as Nextcloud's CSRF check allows).</summary>
    public StandInUser? Authenticate(HttpRequest request, bool ocs)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
            }
            catch (FormatException)
            {
                return null;
            }

            var colon = decoded.IndexOf(':');
            return colon > 0 && Find(decoded[..colon]) is { } user && (Matches(decoded[(colon + 1)..], user.Password) || user.AppPasswords.Any(p => Matches(decoded[(colon + 1)..], p)))
                ? user
                : null;
        }

        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return options.OAuthTokens.TryGetValue(authorization[7..].Trim(), out var login) ? Find(login) : null;
        }

        if (request.Cookies[SessionCookie] is { } id && _sessions.TryGetValue(id, out var session))
        {
            var token = request.Headers["requesttoken"].ToString();
            var csrfPassed = Matches(token, session.RequestToken) || (ocs ? request.Headers["OCS-APIRequest"] == "true" : HttpMethods.IsGet(request.Method));
            return csrfPassed ? session.User : null;
        }

        return null;
    }

    /// <summary>Whether a user with this id exists (share recipients are named by id).</summary>
    public bool Exists(string uid) => options.Users.Any(u => u.Uid == uid);

    private StandInUser? Find(string login) => options.Users.FirstOrDefault(u => string.Equals(u.Login, login, StringComparison.OrdinalIgnoreCase));

    private static bool Matches(string given, string expected) =>
        expected.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));

    private static string Random() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
}
