using Keyward.Common.V1;

namespace Keyward.Common.Auth;

public static class CallerDescription
{
    /// <summary>The answer to <c>WhoAmI</c>: what <paramref name="service"/> concluded from the caller's token.</summary>
    public static WhoAmIResponse Describe(this TenantContext caller, string service)
    {
        var response = new WhoAmIResponse { Service = service, TenantId = caller.TenantId, UserId = caller.UserId };
        response.Roles.AddRange(caller.Roles.Order(StringComparer.Ordinal));
        return response;
    }
}
