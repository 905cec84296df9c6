using Keyward.NextcloudStandIn;

// A stand-in for the few Nextcloud endpoints Keyward's front door uses (README.md): not Nextcloud, and not for production.
var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null); // WebDAV uploads of any size, streamed to disk
var options = builder.Configuration.GetSection("StandIn").Get<StandInOptions>() ?? new StandInOptions();
var accounts = new Accounts(options);
var files = new FileTree(options.DataDirectory, options.FirstFileId);
builder.Services.AddSingleton(accounts);
builder.Services.AddSingleton(files);

var app = builder.Build();
app.MapGet("/status.php", () => Results.Json(new
{
    installed = true, maintenance = false, needsDbUpgrade = false, version = "30.0.4.1", versionstring = "30.0.4",
    edition = "", productname = "Nextcloud", extendedSupport = false,
}));

app.MapPost("/index.php/login", async (HttpContext http) =>
{
    var form = await http.Request.ReadFormAsync();
    if (accounts.SignIn(form["user"].ToString(), form["password"].ToString()) is not { } session)
    {
        return Results.Unauthorized();
    }

    http.Response.Cookies.Append(Accounts.SessionCookie, session.Id, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax });
    return Results.Json(new { requesttoken = session.RequestToken });
});

app.MapGet("/standin/echo", (HttpContext http) => Results.Json(http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString())));

foreach (var (entry, flavor) in new[] { ("/ocs/v1.php", 1), ("/ocs/v2.php", 2) })
{
    app.MapGet($"{entry}/cloud/user", (HttpContext http) => accounts.Authenticate(http.Request, ocs: true) is { } user
        ? Ocs.Write(http, flavor, 200, "OK", user.Describe())
        : Ocs.Write(http, flavor, Ocs.NotLoggedIn, "Current user is not logged in", null));
    app.MapGet($"{entry}/cloud/capabilities", (HttpContext http) => Ocs.Write(http, flavor, 200, "OK", Ocs.Capabilities()));
}

WebDav.Map(app, accounts, files);
WebDav.MapSearch(app, accounts, files);
Shares.Map(app, accounts, files);
app.Run();
