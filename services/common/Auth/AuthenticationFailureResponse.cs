using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Keyward.Common.Auth;

/// <summary>
/// Writes 401/403 answers in the caller's protocol: a gRPC status for gRPC calls (so clients see
/// UNAUTHENTICATED / PERMISSION_DENIED with the reason), JSON for everything else.
/// </summary>
public static class AuthenticationFailureResponse
{
    // Our own messages in a JSON body, never HTML: keep quotes and angle brackets readable.
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Task WriteUnauthenticatedAsync(HttpContext context, string message)
    {
        context.Response.Headers.WWWAuthenticate = $"Bearer error=\"invalid_token\", error_description=\"{message.Replace("\"", "'")}\"";
        return WriteAsync(context, StatusCodes.Status401Unauthorized, grpcStatus: 16, "unauthenticated", message);
    }

    public static Task WriteForbiddenAsync(HttpContext context, string message) =>
        WriteAsync(context, StatusCodes.Status403Forbidden, grpcStatus: 7, "permission_denied", message);

    private static Task WriteAsync(HttpContext context, int httpStatus, int grpcStatus, string error, string message)
    {
        if (IsGrpc(context.Request))
        {
            WriteGrpcStatus(context, grpcStatus, message);
            return Task.CompletedTask;
        }

        context.Response.StatusCode = httpStatus;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { error, message }, JsonOptions));
    }

    /// <summary>A trailers-only gRPC answer: HTTP 200 with grpc-status in the headers (gRPC over HTTP/2 spec).</summary>
    public static void WriteGrpcStatus(HttpContext context, int grpcStatus, string message)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = grpcStatus.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }

    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
}
