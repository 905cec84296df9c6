using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;

namespace Keyward.Gateway.Core;

/// <summary>Which OCS endpoint answers: <c>/ocs/v1.php</c> or <c>/ocs/v2.php</c> (reference §a.0).</summary>
public enum OcsFlavor
{
    V1,
    V2,
}

/// <summary>
/// What an OCS endpoint answers, before it is wrapped. The reference server has three error shapes
/// (§a.0): thrown exceptions (<c>data: []</c>, text in <c>meta.message</c>), returned errors
/// (<c>data: {"message": …}</c>, empty <c>meta.message</c>), and bare failures (<c>data: []</c>, no text).
/// </summary>
public sealed record OcsAnswer(int Status, JsonNode? Data, string? MetaMessage)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>Response headers that go with the answer (the metadata signature, Retry-After).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    public static OcsAnswer Ok(JsonNode data) => new(200, data, "OK");

    public static OcsAnswer OkEmpty() => new(200, new JsonArray(), "OK");

    public static OcsAnswer Thrown(int status, string message) => new(status, new JsonArray(), message);

    public static OcsAnswer Returned(int status, string message) => new(status, new JsonObject { ["message"] = message }, "");

    public static OcsAnswer Bare(int status) => new(status, new JsonArray(), "");

    /// <summary>Nextcloud's "not logged in": OCS status 997, HTTP 401 in both flavors.</summary>
    public static OcsAnswer Unauthorised(string message) => new(OcsEnvelope.Unauthorised, new JsonArray(), message);
}

/// <summary>
/// Wraps an answer in the envelope of the flavor: v2 keeps the HTTP status, v1 answers 200 (but 401) and says 100 for success.
/// The envelope is written straight to a JSON or XML writer: building it as a JSON tree would copy the answer's data
/// into it (a node has one parent) on every response.
/// </summary>
public static class OcsEnvelope
{
    public const int Unauthorised = 997;

    public static int HttpStatus(OcsFlavor flavor, OcsAnswer answer) =>
        answer.Status == Unauthorised ? 401 : flavor == OcsFlavor.V2 ? answer.Status : 200;

    /// <summary>The envelope as JSON: <c>{"ocs":{"meta":{…},"data":…}}</c>.</summary>
    public static void WriteJson(Utf8JsonWriter json, OcsFlavor flavor, OcsAnswer answer)
    {
        json.WriteStartObject();
        json.WriteStartObject("ocs");
        json.WriteStartObject("meta");
        json.WriteString("status", answer.IsSuccess ? "ok" : "failure");
        json.WriteNumber("statuscode", StatusCode(flavor, answer));
        json.WriteString("message", Message(answer));
        if (flavor == OcsFlavor.V1)
        {
            json.WriteString("totalitems", "");
            json.WriteString("itemsperpage", "");
        }

        json.WriteEndObject();
        json.WritePropertyName("data");
        if (answer.Data is { } data)
        {
            data.WriteTo(json);
        }
        else
        {
            json.WriteStartArray();
            json.WriteEndArray();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>The JSON envelope as a string (tests and logs of the wire format).</summary>
    public static string RenderJson(OcsFlavor flavor, OcsAnswer answer, JavaScriptEncoder? encoder = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = encoder }))
        {
            WriteJson(json, flavor, answer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static int StatusCode(OcsFlavor flavor, OcsAnswer answer) => flavor == OcsFlavor.V1 && answer.IsSuccess ? 100 : answer.Status;

    private static string Message(OcsAnswer answer) => answer.MetaMessage ?? (answer.IsSuccess ? "OK" : "");

    /// <summary>
    /// Which of the two bodies the caller asked for, as Nextcloud decides it: the <c>format</c> parameter, else the first
    /// <c>Accept</c> entry whose subtype is json or xml, else XML.
    /// </summary>
    public static bool WantsJson(string? format, string? accept)
    {
        if (!string.IsNullOrEmpty(format))
        {
            return format.Equals("json", StringComparison.OrdinalIgnoreCase);
        }

        foreach (var entry in (accept ?? "").Split(','))
        {
            var slash = entry.IndexOf('/');
            var subtype = slash < 0 ? "" : entry[(slash + 1)..].Split(';')[0].Trim();
            if (subtype.Equals("json", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            if (subtype.Equals("xml", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>
    /// The envelope as XML, by Nextcloud's rule for turning its arrays into elements: a key becomes an element, a list
    /// item an <c>element</c>, true "1", false and null empty. A key that is no XML name (a user id such as
    /// <c>alice@example.org</c> in public-keys) is written with <see cref="XmlConvert.EncodeLocalName"/>.
    /// </summary>
    public static string RenderXml(OcsFlavor flavor, OcsAnswer answer)
    {
        var text = new StringBuilder();
        using (var xml = XmlWriter.Create(text, new XmlWriterSettings { Indent = true, IndentChars = " ", OmitXmlDeclaration = true }))
        {
            xml.WriteStartElement("ocs");
            xml.WriteStartElement("meta");
            xml.WriteElementString("status", answer.IsSuccess ? "ok" : "failure");
            xml.WriteElementString("statuscode", StatusCode(flavor, answer).ToString(CultureInfo.InvariantCulture));
            xml.WriteElementString("message", Message(answer));
            if (flavor == OcsFlavor.V1)
            {
                xml.WriteElementString("totalitems", "");
                xml.WriteElementString("itemsperpage", "");
            }

            xml.WriteEndElement();
            Write(xml, "data", answer.Data ?? new JsonArray());
            xml.WriteEndElement();
        }

        return "<?xml version=\"1.0\"?>\n" + text + "\n";
    }

    private static void Write(XmlWriter xml, string name, JsonNode? value)
    {
        xml.WriteStartElement(XmlConvert.EncodeLocalName(name));
        switch (value)
        {
            case JsonObject map:
                foreach (var (key, child) in map)
                {
                    Write(xml, key, child);
                }

                break;
            case JsonArray list:
                foreach (var item in list)
                {
                    Write(xml, "element", item);
                }

                break;
            case JsonValue scalar when scalar.GetValueKind() == JsonValueKind.True:
                xml.WriteString("1");
                break;
            case JsonValue scalar when scalar.GetValueKind() is JsonValueKind.False or JsonValueKind.Null:
                break;
            case JsonValue scalar:
                xml.WriteString(scalar.GetValueKind() == JsonValueKind.String ? scalar.GetValue<string>() : scalar.ToJsonString());
                break;
        }

        xml.WriteEndElement();
    }
}
