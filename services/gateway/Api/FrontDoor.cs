using System.Diagnostics;
using System.Net;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Gateway.Adapters;
using Keyward.Gateway.Core;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Keyward.Gateway.Api;

/// <summary>A request that came through a tenant's front door, and the credential it came with (for asking the instance on its behalf).</summary>
public sealed record FrontDoorCaller(FrontDoorTenant Tenant, IHeaderDictionary InstanceCredentials);

/// <summary>
/// The gateway in front of a tenant's Nextcloud instance (requests for one of its host names). Keyward serves the E2EE
/// OCS API, the capabilities and its own APIs; everything else goes to the instance unchanged, streamed both ways with
/// X-Forwarded-* set (YARP's direct forwarder). Callers of what Keyward serves prove who they are the way they prove it to
/// Nextcloud — Basic with an app password, an OAuth2 bearer token, the web session — and the gateway asks the instance
/// (<c>cloud/user</c>), then hands the services a short-lived tenant token for that user. Keyward JWTs pass as before.
/// </summary>
public sealed class FrontDoor(
    FrontDoorTenants tenants,
    FrontDoorIdentities identities,
    DelegatedTokens tokens,
    LoginThrottle throttle,
    FrontDoorWebDav webDav,
    IHttpForwarder forwarder,
    ITransformBuilder transforms,
    ILogger<FrontDoor> logger)
{
    private static readonly PathString[] KeywardPaths =
    [
        "/ocs/v1.php/apps/end_to_end_encryption", "/ocs/v2.php/apps/end_to_end_encryption", "/ocs/v1.php/cloud/capabilities", "/ocs/v2.php/cloud/capabilities",
        "/v1", "/healthz", "/readyz",
    ];

    private readonly HttpMessageInvoker _toInstances = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        ConnectTimeout = TimeSpan.FromSeconds(15),
    });

    // X-Forwarded-For/Proto/Host/Prefix are YARP's defaults; the header below is stripped (reference §1.7: clients can
    // send it themselves to skip the E2EE checks of a move).
    private readonly HttpTransformer _transformer = transforms.Create(context =>
    {
        context.AddRequestHeaderRemove("X-Nc-Sabre-Original-Method");
        context.AddResponseTransform(response =>
        {
            // A read that may be of a file deleted under a lock: its 404 is held back until the staged name was tried.
            if (response.ProxyResponse?.StatusCode == HttpStatusCode.NotFound && response.HttpContext.Items.Remove(TryStagedDeletion))
            {
                response.SuppressResponseBody = true;
                response.HttpContext.Items[NotFoundHeldBack] = true;
            }

            return ValueTask.CompletedTask;
        });
    });

    private static readonly object TryStagedDeletion = new();
    private static readonly object NotFoundHeldBack = new();

    public static WebApplicationBuilder AddFrontDoor(WebApplicationBuilder builder)
    {
        var front = new FrontDoorTenants(builder.Configuration.GetSection(TenantRegistryOptions.Section).GetChildren()
            .Where(t => t.GetSection("Nextcloud").Exists())
            .Select(t => (t.Key, t.GetSection("Nextcloud").Get<NextcloudOptions>() ?? new NextcloudOptions())));
        builder.Services.AddSingleton(front);
        if (front.All.Count == 0)
        {
            return builder;
        }

        builder.Services.AddOptions<LoginThrottleOptions>().Bind(builder.Configuration.GetSection(LoginThrottleOptions.Section))
            .Validate(o => o.IsValid, $"{LoginThrottleOptions.Section}: MaxAttempts and Window must be positive, MaxDelay at least BaseDelay.").ValidateOnStart();
        builder.Services.AddSingleton(s => new LoginThrottle(s.GetRequiredService<IOptions<LoginThrottleOptions>>().Value, TimeProvider.System));
        builder.Services.AddHttpClient(NextcloudInstance.ClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false });
        builder.Services.AddSingleton<NextcloudInstance>();
        builder.Services.AddSingleton<FrontDoorIdentities>();
        builder.Services.AddSingleton<DelegatedTokens>();
        builder.Services.AddSingleton<FrontDoorWebDav>();
        builder.Services.AddSingleton<WebDavRefusals>();
        builder.Services.AddSingleton<FrontDoorShares>();
        builder.Services.AddSingleton<FrontDoor>();
        return builder;
    }

    /// <summary>Runs before authentication, so that what the instance vouched for is authenticated like any tenant token.</summary>
    public static void Use(IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetRequiredService<FrontDoorTenants>().All.Count > 0)
        {
            var door = app.ApplicationServices.GetRequiredService<FrontDoor>();
            app.Use((http, next) => door.InvokeAsync(http, next));
        }
    }

    private async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        if (!tenants.TryGetByHost(http.Request.Host.Host, out var tenant))
        {
            await next(http);
            return;
        }

        var (kind, login) = NextcloudCredentials.Classify(http.Request.Headers.Authorization.ToString(), http.Request.Headers.Cookie.ToString());
        var served = KeywardPaths.Any(p => http.Request.Path.StartsWithSegments(p));
        if (!served || (kind == CredentialKind.None && OcsCapabilities.IsCapabilities(http.Request.Path)))
        {
            // The instance's own (and anonymous capabilities, which carry no E2EE block on the reference either); writes
            // into the user's files first pass the E2EE checks. Without credentials the instance refuses them itself.
            var path = http.Request.Path.ToUriComponent();
            var davWrite = WebDavRules.IsWrite(http.Request.Method) && (WebDavRules.IsFilesPath(path) || WebDavRules.IsUploadPath(path));
            var propFind = HttpMethods.Equals(http.Request.Method, "PROPFIND") && WebDavRules.IsFilesPath(path);
            if ((davWrite || propFind) && kind is CredentialKind.Basic or CredentialKind.Bearer or CredentialKind.Session)
            {
                var davCredentials = InstanceCredentials(http);
                var caller = await identities.WhoIsAsync(tenant, davCredentials, http.RequestAborted);
                if (caller.Outcome == WhoIsOutcome.Unreachable)
                {
                    await InstanceUnreachableAsync(http, caller);
                    return;
                }

                // A refused login goes on to the instance, which answers and throttles it as for any WebDAV request.
                if (caller.Outcome == WhoIsOutcome.Known && (davWrite
                    ? !await webDav.AllowsAsync(http, tenant, caller.UserId!, davCredentials)
                    : await webDav.TryPropFindAsync(http, tenant, caller.UserId!, davCredentials)))
                {
                    return;
                }
            }

            var read = (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)) && WebDavRules.IsFilesPath(path)
                && !WebDavRules.HasReservedSuffix(path) && kind is CredentialKind.Basic or CredentialKind.Bearer or CredentialKind.Session;
            if (read)
            {
                http.Items[TryStagedDeletion] = true;
            }

            await ForwardAsync(http, tenant);
            if (read && http.Items.Remove(NotFoundHeldBack))
            {
                await ReadStagedDeletionAsync(http, tenant, path);
            }

            return;
        }

        http.Features.Set(tenant);
        if (kind is CredentialKind.None or CredentialKind.KeywardToken)
        {
            await next(http);
            return;
        }

        var source = EdgeRateLimits.Source(http);
        string[] keys = login is null ? [$"source:{source}"] : [$"source:{source}", $"login:{tenant.TenantId}:{login.ToLowerInvariant()}"];
        var attempts = keys.Max(throttle.Attempts);
        if (throttle.IsBlocked(attempts))
        {
            var retryAfter = keys.Max(throttle.RetryAfter);
            logger.LogWarning("Front door of {TenantId}: logins from {Source} throttled after {Attempts} refusals", tenant.TenantId, source, attempts);
            await FailAsync(http, 429, "Reached maximum delay", retryAfter);
            return;
        }

        var credentials = InstanceCredentials(http);
        var answer = await identities.WhoIsAsync(tenant, credentials, http.RequestAborted);
        switch (answer.Outcome)
        {
            case WhoIsOutcome.Unreachable:
                await InstanceUnreachableAsync(http, answer);
                return;
            case WhoIsOutcome.Refused:
                Array.ForEach(keys, throttle.RecordRefusal);
                var delay = throttle.DelayFor(attempts);
                if (delay > TimeSpan.Zero)
                {
                    http.Response.Headers["X-Nextcloud-Bruteforce-Throttled"] = $"{(long)delay.TotalMilliseconds}ms";
                    await Task.Delay(delay, http.RequestAborted);
                }

                await FailAsync(http, 401, "Current user is not logged in", null);
                return;
        }

        http.Features.Set(new FrontDoorCaller(tenant, credentials));
        http.Request.Headers.Authorization = "Bearer " + tokens.For(tenant.TenantId, answer.UserId!);
        // The instance's session cookie and request token mean nothing to the services behind the gateway.
        http.Request.Headers.Remove("Cookie");
        http.Request.Headers.Remove("requesttoken");
        await next(http);
    }

    /// <summary>
    /// A file deleted under a lock is still read from its staged name until unlock (reference §1.4), in encrypted folders
    /// only. Anywhere else, or when there is no staged copy either, the instance's own 404 is forwarded.
    /// </summary>
    private async Task ReadStagedDeletionAsync(HttpContext http, FrontDoorTenant tenant, string path)
    {
        var credentials = InstanceCredentials(http);
        var caller = await identities.WhoIsAsync(tenant, credentials, http.RequestAborted);
        http.Response.Clear();
        if (caller.Outcome == WhoIsOutcome.Known && await webDav.InEncryptedFolderAsync(tenant, caller.UserId!, credentials, path, http.RequestAborted))
        {
            http.Items[TryStagedDeletion] = true;
            http.Request.Path = PathString.FromUriComponent(WebDavRules.WithSuffix(path, WebDavRules.DeleteSuffix));
            await ForwardAsync(http, tenant);
            http.Request.Path = PathString.FromUriComponent(path);
            if (!http.Items.Remove(NotFoundHeldBack))
            {
                return;
            }

            http.Response.Clear();
        }

        http.Items.Remove(TryStagedDeletion);
        await ForwardAsync(http, tenant);
    }

    private static HeaderDictionary InstanceCredentials(HttpContext http)
    {
        var credentials = new HeaderDictionary();
        foreach (var name in NextcloudInstance.CredentialHeaders)
        {
            if (http.Request.Headers.TryGetValue(name, out var value))
            {
                credentials[name] = value;
            }
        }

        return credentials;
    }

    private async Task ForwardAsync(HttpContext http, FrontDoorTenant tenant)
    {
        // Uploads to the instance are streamed, whatever their size; Kestrel's default cap is for Keyward's own bodies.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }

        var error = await forwarder.SendAsync(http, tenant.BaseUrl.ToString().TrimEnd('/'), _toInstances, ForwarderRequestConfig.Empty, _transformer);
        if (error != ForwarderError.None && !http.Response.HasStarted)
        {
            logger.LogWarning("Front door of {TenantId}: the instance could not be reached for {Method} {Path} ({Error})", tenant.TenantId, http.Request.Method, http.Request.Path.Value, error);
            await FailAsync(http, 503, "The Nextcloud instance could not be reached; try again later", TimeSpan.FromSeconds(5));
        }
    }

    private static Task InstanceUnreachableAsync(HttpContext http, WhoIsAnswer answer) =>
        FailAsync(http, 503, $"The Nextcloud instance could not be asked who you are ({answer.Problem}); try again later", TimeSpan.FromSeconds(5));

    /// <summary>An answer in the shape the path expects: the OCS envelope on OCS paths, Keyward's JSON error elsewhere.</summary>
    private static Task FailAsync(HttpContext http, int status, string message, TimeSpan? retryAfter)
    {
        if (retryAfter is { } wait)
        {
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (http.Request.Path.StartsWithSegments("/ocs"))
        {
            var answer = status == 401 ? OcsAnswer.Unauthorised(message) : OcsAnswer.Thrown(status, message);
            return OcsResult.Write(http, OcsResult.FlavorOf(http.Request.Path), answer);
        }

        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new { error = status switch { 401 => "unauthenticated", 429 => "too_many_requests", _ => "unavailable" }, message });
    }
}
