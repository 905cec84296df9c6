using System.Text.Json;

namespace Keyward.Gateway.Api;

/// <summary>
/// Named parameters of an OCS call, merged like Nextcloud's request object (reference §a.0): the query
/// string, then a form body or a JSON body, the body winning. Desktop sends forms, the web client JSON.
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

        return new OcsParameters(values);
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
