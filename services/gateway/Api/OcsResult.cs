using System.Text.Encodings.Web;
using System.Text.Json;
using Keyward.Gateway.Core;

namespace Keyward.Gateway.Api;

/// <summary>An OCS answer in the envelope of its flavor, as JSON or XML (whichever the caller asked for, as Nextcloud).</summary>
public sealed class OcsResult(OcsFlavor flavor, OcsAnswer answer) : IResult
{
    // Keeps '+', '/' and '<' of Base64 and PEM readable; the body is JSON, never HTML.
    private static readonly JsonWriterOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public OcsAnswer Answer => answer;

    public Task ExecuteAsync(HttpContext httpContext) => Write(httpContext, flavor, answer);

    public static Task Write(HttpContext httpContext, OcsFlavor flavor, OcsAnswer answer)
    {
        var response = httpContext.Response;
        if (answer.Headers is { } headers)
        {
            foreach (var (name, value) in headers)
            {
                response.Headers[name] = value;
            }
        }

        response.StatusCode = OcsEnvelope.HttpStatus(flavor, answer);
        if (!OcsEnvelope.WantsJson(httpContext.Request.Query["format"], httpContext.Request.Headers.Accept))
        {
            response.ContentType = "application/xml; charset=utf-8";
            return response.WriteAsync(OcsEnvelope.RenderXml(flavor, answer));
        }

        response.ContentType = "application/json; charset=utf-8";
        // Straight into the response's pipe: no JSON tree of the envelope, no string of the body.
        using (var json = new Utf8JsonWriter(response.BodyWriter, Json))
        {
            OcsEnvelope.WriteJson(json, flavor, answer);
        }

        return response.BodyWriter.FlushAsync().AsTask();
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
