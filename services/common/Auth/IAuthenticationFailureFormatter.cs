using Microsoft.AspNetCore.Http;

namespace Keyward.Common.Auth;

/// <summary>
/// Lets a service answer a refused token in its own protocol for some requests (the gateway's OCS
/// endpoints answer in the OCS envelope); requests no formatter claims get JSON or a gRPC status.
/// </summary>
public interface IAuthenticationFailureFormatter
{
    /// <summary>Writes the 401 answer and returns true, or returns false to leave the request to others.</summary>
    Task<bool> TryWriteUnauthenticatedAsync(HttpContext context, string message);
}

/// <summary>Told about every refused token (the gateway records refusals for a known tenant in its audit trail).</summary>
public interface IRefusedTokenObserver
{
    Task RefusedAsync(HttpContext context, TokenCheck refusal);
}
