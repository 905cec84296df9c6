using System.Text.Json.Nodes;

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

/// <summary>Wraps an answer in the envelope of the flavor: v2 keeps the HTTP status, v1 answers 200 (but 401) and says 100 for success.</summary>
public static class OcsEnvelope
{
    public const int Unauthorised = 997;

    public static (int HttpStatus, JsonObject Body) Render(OcsFlavor flavor, OcsAnswer answer)
    {
        var meta = new JsonObject
        {
            ["status"] = answer.IsSuccess ? "ok" : "failure",
            ["statuscode"] = flavor == OcsFlavor.V1 && answer.IsSuccess ? 100 : answer.Status,
            ["message"] = answer.MetaMessage ?? (answer.IsSuccess ? "OK" : ""),
        };
        if (flavor == OcsFlavor.V1)
        {
            meta["totalitems"] = "";
            meta["itemsperpage"] = "";
        }

        var body = new JsonObject { ["ocs"] = new JsonObject { ["meta"] = meta, ["data"] = answer.Data?.DeepClone() ?? new JsonArray() } };
        var httpStatus = answer.Status == Unauthorised ? 401 : flavor == OcsFlavor.V2 ? answer.Status : 200;
        return (httpStatus, body);
    }
}
