using System.Text.Encodings.Web;
using System.Text.Json;
using Keyward.Gateway.Core;

namespace Keyward.Gateway.Api;

/// <summary>An OCS answer in the envelope of its flavor, as JSON or XML (whichever the caller asked for, as Nextcloud).</summary>
public sealed class OcsResult(OcsFlavor flavor, OcsAnswer answer) : IResult
{
    // Keeps '+', '/' and '<' of Base64 and PEM readable; the body is JSON, never HTML.
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public OcsAnswer Answer => answer;

    public Task ExecuteAsync(HttpContext httpContext) => Write(httpContext, flavor, answer);

    public static Task Write(HttpContext httpContext, OcsFlavor flavor, OcsAnswer answer)
    {
        foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>())
        {
            httpContext.Response.Headers[name] = value;
        }

        var (status, body) = OcsEnvelope.Render(flavor, answer);
        httpContext.Response.StatusCode = status;
        if (!OcsEnvelope.WantsJson(httpContext.Request.Query["format"], httpContext.Request.Headers.Accept))
        {
            httpContext.Response.ContentType = "application/xml; charset=utf-8";
            return httpContext.Response.WriteAsync(OcsEnvelope.RenderXml(body));
        }

        httpContext.Response.ContentType = "application/json; charset=utf-8";
        return httpContext.Response.WriteAsync(body.ToJsonString(Json));
    }

    public static OcsFlavor FlavorOf(PathString path) =>
        path.StartsWithSegments("/ocs/v1.php") ? OcsFlavor.V1 : OcsFlavor.V2;
}

/// <summary>Refused tokens on OCS paths get Nextcloud's "not logged in" envelope with our reason.</summary>
public sealed class OcsAuthenticationFailureFormatter : Common.Auth.IAuthenticationFailureFormatter
{
    public async Task<bool> TryWriteUnauthenticatedAsync(HttpContext context, string message)
    {
        if (!context.Request.Path.StartsWithSegments("/ocs"))
        {
            return false;
        }

        await OcsResult.Write(context, OcsResult.FlavorOf(context.Request.Path), OcsAnswer.Unauthorised(message));
        return true;
    }
}
