using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Keyward.Common.Auth;

/// <summary>
/// ASP.NET Core glue for <see cref="TenantTokenValidator"/>: every service runs it on every request,
/// so no service trusts a caller because of where it sits on the network.
/// </summary>
internal sealed class TenantBearerHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    TenantTokenValidator validator,
    IEnumerable<IAuthenticationFailureFormatter> formatters,
    IEnumerable<IRefusedTokenObserver> observers)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "TenantBearer";
    private const string MissingToken = "no bearer token: send 'Authorization: Bearer <JWT>' (scripts/token prints one for the dev tenant)";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("the Authorization header must be 'Bearer <JWT>'");
        }

        var check = await validator.ValidateAsync(header["Bearer ".Length..].Trim());
        if (!check.IsValid)
        {
            Logger.LogInformation("Refused a bearer token: {Reason}", check.Error);
            foreach (var observer in observers)
            {
                await observer.RefusedAsync(Context, check);
            }

            return AuthenticateResult.Fail(check.Error!);
        }

        var principal = check.Tenant!.ToPrincipal(SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var message = result.Failure?.Message ?? MissingToken;
        foreach (var formatter in formatters)
        {
            if (await formatter.TryWriteUnauthenticatedAsync(Context, message))
            {
                return;
            }
        }

        await AuthenticationFailureResponse.WriteUnauthenticatedAsync(Context, message);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        AuthenticationFailureResponse.WriteForbiddenAsync(Context, "the caller's roles do not allow this action");
}
