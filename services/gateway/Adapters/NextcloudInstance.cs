using System.Net;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Keyward.Gateway.Core;

namespace Keyward.Gateway.Adapters;

public enum WhoIsOutcome
{
    Known,
    Refused,
    Unreachable,
}

public sealed record WhoIsAnswer(WhoIsOutcome Outcome, string? UserId = null, string? Problem = null);

/// <summary>A node of the instance's files: its <c>oc:fileid</c> and whether it is a folder. Null fields: it does not exist.</summary>
public sealed record DavNode(bool Reachable, string? FileId = null, bool IsFolder = false)
{
    public bool Exists => FileId is not null;
}

/// <summary>
/// What the gateway asks a tenant's Nextcloud instance, with the caller's own credentials: who they are
/// (<c>cloud/user</c>, reference §7a: the user id is <c>data.id</c>, the DAV uid) and its capabilities.
/// </summary>
public sealed class NextcloudInstance(IHttpClientFactory clients, ILogger<NextcloudInstance> logger)
{
    public const string ClientName = "nextcloud";

    /// <summary>The request headers that carry a caller's credentials to the instance.</summary>
    public static readonly string[] CredentialHeaders = ["Authorization", "Cookie", "requesttoken"];

    public async Task<WhoIsAnswer> WhoIsAsync(FrontDoorTenant tenant, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        var (status, data, problem) = await GetOcsAsync(tenant, "ocs/v2.php/cloud/user", headers, cancellationToken);
        return status switch
        {
            HttpStatusCode.OK when data?["id"]?.GetValueKind() == System.Text.Json.JsonValueKind.String && data["id"]!.GetValue<string>().Length > 0
                => new WhoIsAnswer(WhoIsOutcome.Known, data["id"]!.GetValue<string>()),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new WhoIsAnswer(WhoIsOutcome.Refused),
            _ => new WhoIsAnswer(WhoIsOutcome.Unreachable, Problem: problem ?? $"the instance answered cloud/user with {(int?)status} and no user id"),
        };
    }

    /// <summary>The instance's <c>ocs.data</c> of cloud/capabilities for this caller, or null when it cannot be had.</summary>
    public async Task<JsonObject?> CapabilitiesAsync(FrontDoorTenant tenant, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        var (status, data, _) = await GetOcsAsync(tenant, "ocs/v2.php/cloud/capabilities", headers, cancellationToken);
        return status == HttpStatusCode.OK ? data : null;
    }

    /// <summary>
    /// A Depth-0 PROPFIND of <paramref name="davPath"/> (as sent, percent-encoded) with the caller's credentials: the node's
    /// file id and type, as the instance knows them — which folders are whose, and which id is which path, are its truth.
    /// </summary>
    public async Task<DavNode> DavNodeAsync(FrontDoorTenant tenant, IHeaderDictionary headers, string davPath, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(new HttpMethod("PROPFIND"), new Uri(tenant.BaseUrl, davPath.TrimStart('/')))
        {
            Content = new StringContent(PropFindBody, System.Text.Encoding.UTF8, "application/xml"),
        };
        request.Headers.TryAddWithoutValidation("Depth", "0");
        try
        {
            using var response = await SendAsync(tenant, request, headers, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new DavNode(true);
            }

            if ((int)response.StatusCode != 207)
            {
                return new DavNode(false);
            }

            var body = XDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var found = body.Descendants(Dav + "propstat").FirstOrDefault(p => p.Element(Dav + "status")?.Value.Contains(" 200 ", StringComparison.Ordinal) == true)?.Element(Dav + "prop");
            var fileId = found?.Element(Oc + "fileid")?.Value;
            return string.IsNullOrEmpty(fileId) ? new DavNode(false) : new DavNode(true, fileId, found!.Element(Dav + "resourcetype")?.Element(Dav + "collection") is not null);
        }
        catch (Exception e) when (e is HttpRequestException or System.Xml.XmlException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.LogWarning("The Nextcloud instance of tenant {TenantId} did not answer a PROPFIND: {Reason}", tenant.TenantId, e.Message);
            return new DavNode(false);
        }
    }

    /// <summary>
    /// The node with this file id among the caller's files (reference §7b: a SEARCH by <c>oc:fileid</c>): its href, whether
    /// it is a folder, whose it is. Null when the caller has no such node; throws <see cref="HttpRequestException"/> when
    /// the instance cannot be asked.
    /// </summary>
    public async Task<(string Href, bool IsFolder, string OwnerId)?> FindFileAsync(FrontDoorTenant tenant, IHeaderDictionary headers, string userId, string fileId,
        CancellationToken cancellationToken)
    {
        var search = new XElement(Dav + "searchrequest", new XAttribute(XNamespace.Xmlns + "d", Dav),
            new XAttribute(XNamespace.Xmlns + "oc", Oc),
            new XElement(Dav + "basicsearch",
                new XElement(Dav + "select", new XElement(Dav + "prop", new XElement(Oc + "fileid"), new XElement(Dav + "resourcetype"), new XElement(Oc + "owner-id"))),
                new XElement(Dav + "from", new XElement(Dav + "scope", new XElement(Dav + "href", $"/files/{userId}"), new XElement(Dav + "depth", "infinity"))),
                new XElement(Dav + "where", new XElement(Dav + "eq", new XElement(Dav + "prop", new XElement(Oc + "fileid")), new XElement(Dav + "literal", fileId))),
                new XElement(Dav + "orderby")));
        using var request = new HttpRequestMessage(new HttpMethod("SEARCH"), new Uri(tenant.BaseUrl, "remote.php/dav/"))
        {
            Content = new StringContent(search.ToString(), System.Text.Encoding.UTF8, "text/xml"),
        };
        using var response = await SendAsync(tenant, request, headers, cancellationToken);
        if ((int)response.StatusCode != 207 || TryParse(await response.Content.ReadAsStringAsync(cancellationToken)) is not { } found)
        {
            throw new HttpRequestException($"the instance answered the file search with {(int)response.StatusCode}");
        }

        var node = found.Root!.Elements(Dav + "response").FirstOrDefault(r => r.Descendants(Oc + "fileid").Any(f => f.Value == fileId));
        if (node?.Element(Dav + "href")?.Value is not { } href)
        {
            return null;
        }

        return (href, node.Descendants(Dav + "resourcetype").Elements(Dav + "collection").Any(), node.Descendants(Oc + "owner-id").FirstOrDefault()?.Value ?? "");
    }

    /// <summary>A public link share of the caller's, as the instance's share API lists it (reference §7c).</summary>
    public sealed record LinkShare(string Token, string OwnerId, string NodeId, int Permissions);

    /// <summary>The caller's own link shares (share types 3 and 4); null when the instance cannot be asked.</summary>
    public async Task<IReadOnlyList<LinkShare>?> OwnSharesAsync(FrontDoorTenant tenant, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        var (status, data, _) = await GetOcsNodeAsync(tenant, "ocs/v2.php/apps/files_sharing/api/v1/shares", headers, cancellationToken);
        if (status != HttpStatusCode.OK || data is not JsonArray shares)
        {
            return null;
        }

        return shares.OfType<JsonObject>()
            .Where(s => s["share_type"]?.ToString() is "3" or "4" && s["token"]?.ToString() is { Length: > 0 })
            .Select(s => new LinkShare(s["token"]!.ToString(), s["uid_owner"]?.ToString() ?? "", s["item_source"]?.ToString() ?? "",
                int.TryParse(s["permissions"]?.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var p) ? p : 0))
            .ToList();
    }

    /// <summary>Whether the instance still knows a share token (anonymous <c>shareinfo</c>: 404 means gone); null when it cannot be asked.</summary>
    public async Task<bool?> ShareExistsAsync(FrontDoorTenant tenant, string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(tenant.BaseUrl, "index.php/apps/files_sharing/shareinfo"))
        {
            Content = new FormUrlEncodedContent([KeyValuePair.Create("t", token)]),
        };
        try
        {
            using var response = await SendAsync(tenant, request, null, cancellationToken);
            return response.StatusCode switch
            {
                HttpStatusCode.NotFound => false,
                HttpStatusCode.OK or HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized => true, // file drop or password: it exists
                _ => null,
            };
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>A body-less WebDAV request on the caller's behalf (the moves and deletes of staging); its status.</summary>
    public async Task<int> DavAsync(FrontDoorTenant tenant, IHeaderDictionary headers, string method, string davPath, IReadOnlyDictionary<string, string> extra,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(tenant.BaseUrl, davPath.TrimStart('/')));
        foreach (var (name, value) in extra)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await SendAsync(tenant, request, headers, cancellationToken);
        return (int)response.StatusCode;
    }

    /// <summary>A PROPFIND with the caller's body and Depth; the multistatus parsed when it is one (status 207).</summary>
    public async Task<(int Status, string ContentType, string Text, XDocument? Multistatus)> PropFindAsync(FrontDoorTenant tenant, IHeaderDictionary headers, string davPathAndQuery,
        string depth, string body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(new HttpMethod("PROPFIND"), new Uri(tenant.BaseUrl, davPathAndQuery.TrimStart('/')))
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/xml"),
        };
        if (depth.Length > 0)
        {
            request.Headers.TryAddWithoutValidation("Depth", depth);
        }

        using var response = await SendAsync(tenant, request, headers, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var contentType = response.Content.Headers.ContentType?.ToString() ?? "application/xml; charset=utf-8";
        return ((int)response.StatusCode, contentType, text, (int)response.StatusCode == 207 ? TryParse(text) : null);
    }

    private static XDocument? TryParse(string text)
    {
        try
        {
            return XDocument.Parse(text);
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
    }

    private static readonly XNamespace Dav = "DAV:";
    private static readonly XNamespace Oc = "http://owncloud.org/ns";
    private const string PropFindBody = """<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/><d:resourcetype/></d:prop></d:propfind>""";

    /// <summary>Sends with the caller's credentials (if any) and the tenant's timeout; the answer is read in full within it.</summary>
    private async Task<HttpResponseMessage> SendAsync(FrontDoorTenant tenant, HttpRequestMessage request, IHeaderDictionary? headers, CancellationToken cancellationToken)
    {
        if (headers is not null)
        {
            Credentials(request, headers);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(tenant.Options.Timeout);
        return await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
    }

    private static void Credentials(HttpRequestMessage request, IHeaderDictionary headers)
    {
        foreach (var name in CredentialHeaders)
        {
            if (headers.TryGetValue(name, out var value) && value.Count > 0)
            {
                request.Headers.TryAddWithoutValidation(name, value.ToString());
            }
        }
    }

    private async Task<(HttpStatusCode? Status, JsonObject? Data, string? Problem)> GetOcsAsync(FrontDoorTenant tenant, string path, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        var (status, data, problem) = await GetOcsNodeAsync(tenant, path, headers, cancellationToken);
        return (status, data as JsonObject, problem);
    }

    private async Task<(HttpStatusCode? Status, JsonNode? Data, string? Problem)> GetOcsNodeAsync(FrontDoorTenant tenant, string path, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(tenant.BaseUrl, path + "?format=json"));
        request.Headers.TryAddWithoutValidation("OCS-APIRequest", "true");
        request.Headers.TryAddWithoutValidation("Accept", "application/json");

        try
        {
            using var response = await SendAsync(tenant, request, headers, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return (response.StatusCode, null, null);
            }

            var body = JsonNode.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            return (response.StatusCode, body?["ocs"]?["data"], null);
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.LogWarning("The Nextcloud instance of tenant {TenantId} did not answer {Path}: {Reason}", tenant.TenantId, path, e.Message);
            return (null, null, e is OperationCanceledException ? "the instance did not answer in time" : "the instance could not be reached");
        }
    }
}
