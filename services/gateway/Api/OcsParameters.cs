using System.Text.Json;
using Microsoft.AspNetCore.Mvc;

namespace Keyward.Gateway.Api;

/// <summary>
/// Named parameters of an OCS call, merged like Nextcloud's request object (reference §a.0): the query
/// string, then a form body or a JSON body, the body winning. Desktop sends forms, the web client JSON.
/// A body that cannot be read within the endpoint's limits is <see cref="OcsRequestUnreadableException"/>.
/// </summary>
public sealed class OcsParameters
{
    private readonly Dictionary<string, string> _values;

    private OcsParameters(Dictionary<string, string> values) => _values = values;

    public string? this[string name] => _values.GetValueOrDefault(name);

    public static async Task<OcsParameters> ReadAsync(HttpRequest request)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Query)
        {
            values[key] = value.ToString();
        }

        try
        {
            if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
                foreach (var (key, value) in form)
                {
                    values[key] = value.ToString();
                }
            }
            else if (request.HasJsonContentType() && request.ContentLength != 0)
            {
                await ReadJsonAsync(request, values);
            }
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or InvalidOperationException or FormatException or IOException
                                       && !request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            // Too many fields, a value or body over the limit, multipart without a boundary, a broken encoding.
            throw new OcsRequestUnreadableException(e);
        }

        // The stores behind refuse NUL in text (PostgreSQL), so no parameter may carry one.
        return values.Values.Any(v => v.Contains('\0')) ? throw new OcsRequestUnreadableException(null) : new OcsParameters(values);
    }

    private static async Task ReadJsonAsync(HttpRequest request, Dictionary<string, string> values)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                values[property.Name] = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Null => "",
                    _ => property.Value.GetRawText(),
                };
            }
        }
        catch (JsonException)
        {
            // An unreadable body carries no parameters; the endpoint then reports the missing one.
        }
    }
}

/// <summary>
/// The largest body an OCS endpoint reads (<c>Keyward:Gateway:Limits</c>): key endpoints 64 KiB; metadata endpoints
/// three times the largest metadata (16 MiB by default), which form encoding can triple.
/// </summary>
public sealed class OcsLimits
{
    public const string Section = "Keyward:Gateway:Limits";

    public long KeyBodyBytes { get; set; } = 64 * 1024;

    public long MaxMetadataBytes { get; set; } = 16 * 1024 * 1024;

    public long MetadataBodyBytes => 3 * MaxMetadataBytes + 64 * 1024;
}

public static class OcsBodyLimits
{
    /// <summary>Route metadata: the largest body and form an endpoint reads (Kestrel and the form reader enforce them).</summary>
    public static TBuilder WithBodyLimits<TBuilder>(this TBuilder endpoint, long maxBodyBytes)
        where TBuilder : IEndpointConventionBuilder =>
        endpoint.WithMetadata(
            new RequestSizeLimitAttribute(maxBodyBytes),
            new RequestFormLimitsAttribute
            {
                // Nextcloud clients send at most a few named parameters.
                ValueCountLimit = 64,
                KeyLengthLimit = 256,
                ValueLengthLimit = (int)Math.Min(int.MaxValue, maxBodyBytes),
                MultipartBodyLengthLimit = maxBodyBytes,
            });
}

/// <summary>The request's parameters cannot be read: answered with the endpoint's reference 400, never a 500.</summary>
public sealed class OcsRequestUnreadableException(Exception? inner) : Exception("the request parameters cannot be read", inner);
