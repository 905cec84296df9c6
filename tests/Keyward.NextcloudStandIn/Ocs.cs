using System.Collections;
using System.Text.Json;
using System.Xml.Linq;

namespace Keyward.NextcloudStandIn;

/// <summary>The OCS envelope as Nextcloud writes it: JSON when <c>format=json</c> or an Accept naming JSON asks for it, XML otherwise.</summary>
public static class Ocs
{
    public const int NotLoggedIn = 997;

    public static IResult Write(HttpContext http, int flavor, int status, string message, object? data)
    {
        var success = status is >= 200 and < 300;
        var statusCode = flavor == 1 && success ? 100 : status;
        var httpStatus = status == NotLoggedIn ? 401 : flavor == 2 ? status : 200;
        var meta = new Dictionary<string, object?> { ["status"] = success ? "ok" : "failure", ["statuscode"] = statusCode, ["message"] = message };
        if (flavor == 1)
        {
            meta["totalitems"] = "";
            meta["itemsperpage"] = "";
        }

        var body = new Dictionary<string, object?> { ["meta"] = meta, ["data"] = data ?? Array.Empty<object>() };
        if (WantsJson(http.Request))
        {
            return Results.Text(JsonSerializer.Serialize(new Dictionary<string, object?> { ["ocs"] = body }), "application/json; charset=utf-8", statusCode: httpStatus);
        }

        var xml = new XDocument(new XDeclaration("1.0", null, null), Element("ocs", body));
        return Results.Text(xml.Declaration + "\n" + xml.Root, "application/xml; charset=utf-8", statusCode: httpStatus);
    }

    public static bool WantsJson(HttpRequest request) =>
        request.Query["format"] == "json" || (request.Query["format"] != "xml" && request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase));

    /// <summary>Nextcloud's array-to-XML rule: keys become elements, list items become <c>element</c>.</summary>
    private static XElement Element(string name, object? value) => value switch
    {
        null => new XElement(name),
        bool b => new XElement(name, b ? "1" : ""),
        string s => new XElement(name, s),
        IDictionary map => new XElement(name, map.Keys.Cast<object>().Select(k => Element(k.ToString()!, map[k]))),
        IEnumerable list => new XElement(name, list.Cast<object?>().Select(i => Element("element", i))),
        _ => new XElement(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)),
    };

    /// <summary>What an instance without the E2EE app advertises: no <c>end-to-end-encryption</c> block.</summary>
    public static Dictionary<string, object?> Capabilities() => new()
    {
        ["version"] = new Dictionary<string, object?> { ["major"] = 30, ["minor"] = 0, ["micro"] = 4, ["string"] = "30.0.4", ["edition"] = "", ["extendedSupport"] = false },
        ["capabilities"] = new Dictionary<string, object?>
        {
            ["core"] = new Dictionary<string, object?> { ["pollinterval"] = 60, ["webdav-root"] = "remote.php/webdav", ["reference-api"] = true, ["mod-rewrite-working"] = false },
            ["files"] = new Dictionary<string, object?> { ["bigfilechunking"] = true, ["undelete"] = true, ["versioning"] = true },
            ["dav"] = new Dictionary<string, object?> { ["chunking"] = "1.0", ["bulkupload"] = "1.0" },
        },
    };
}
