using System.Xml.Linq;
using Grpc.Core;
using Keyward.Gateway.Adapters;
using Keyward.Gateway.Core;
using Keyward.Metadata.V1;
using MetadataClient = Keyward.Metadata.V1.MetadataService.MetadataServiceClient;

namespace Keyward.Gateway.Api;

/// <summary>
/// The WebDAV write checks of the front door (reference §1.3, <see cref="WebDavRules"/>): before a PUT, MKCOL, DELETE,
/// MOVE, COPY, PROPPATCH or chunk-assembly MOVE reaches the instance, the folder it writes into is looked up on the
/// instance (its file id: the instance's truth) and in Keyward (is that folder encrypted, and does the request's
/// <c>e2e-token</c> hold its lock). A write into an encrypted folder without the lock's token never reaches the instance.
/// </summary>
public sealed class FrontDoorWebDav(NextcloudInstance instance, DelegatedTokens tokens, MetadataClient metadata, WebDavRefusals refusals,
    ILogger<FrontDoorWebDav> logger)
{
    private static readonly XNamespace Dav = "DAV:";
    private static readonly XNamespace Sabre = "http://sabredav.org/ns";
    private static readonly XNamespace Oc = "http://owncloud.org/ns";

    private sealed record Side(bool Encrypted, bool Held, bool Unreachable = false, string? FolderId = null);

    /// <summary>True when the write may go to the instance; otherwise the refusal has been answered.</summary>
    public async Task<bool> AllowsAsync(HttpContext http, FrontDoorTenant tenant, string userId, IHeaderDictionary credentials)
    {
        var request = http.Request;
        var path = request.Path.ToUriComponent();
        var token = request.Headers[WebDavRules.TokenHeader].ToString() is { Length: > 0 } header ? header : request.Query[WebDavRules.TokenHeader].ToString();
        var auth = AsUser(tenant, userId);
        string? destination = null;
        if (WebDavRules.IsMove(request.Method) && request.Headers["Destination"].ToString() is { Length: > 0 } target)
        {
            var destinationPath = Uri.TryCreate(target, UriKind.Absolute, out var absolute) ? absolute.AbsolutePath : target;
            destination = WebDavRules.IsFilesPath(destinationPath) ? destinationPath : null;
        }

        async Task<Side> SideAsync(string davPath)
        {
            var node = await instance.DavNodeAsync(tenant, credentials, davPath, http.RequestAborted);
            if (!node.Reachable)
            {
                return new Side(false, false, Unreachable: true);
            }

            var folderId = node.Exists && node.IsFolder ? node.FileId : null;
            if (folderId is null)
            {
                // A file counts by its folder, a missing target by the folder it would be made in (reference §1.2).
                if (WebDavRules.Parent(davPath) is not { } parent)
                {
                    return new Side(false, false);
                }

                var folder = await instance.DavNodeAsync(tenant, credentials, parent, http.RequestAborted);
                if (!folder.Reachable)
                {
                    return new Side(false, false, Unreachable: true);
                }

                if (!folder.Exists)
                {
                    return new Side(false, false); // the instance answers 409 itself
                }

                folderId = folder.FileId;
            }

            try
            {
                var check = await metadata.CheckLockAsync(new CheckLockRequest { FolderId = folderId, Token = token }, auth,
                    deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: http.RequestAborted);
                return new Side(true, check.Held, FolderId: folderId);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return new Side(false, false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.PermissionDenied)
            {
                return new Side(true, false, FolderId: folderId); // encrypted, and not this caller's: their token cannot be its lock's
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                return new Side(false, false, Unreachable: true);
            }
        }

        var upload = WebDavRules.IsUploadPath(path);
        var source = upload ? null : await SideAsync(path);
        var into = destination is null ? null : await SideAsync(destination);
        if (source?.Unreachable == true || into?.Unreachable == true)
        {
            await WriteErrorAsync(http, 503, "Sabre\\DAV\\Exception\\ServiceUnavailable", "The end-to-end encryption state of this folder cannot be checked now; try again later");
            return false;
        }

        // A chunk assembly writes into its destination only: it is checked as a PUT there.
        var sourceEncrypted = upload ? into?.Encrypted == true : source!.Encrypted;
        var destinationEncrypted = upload ? null : into?.Encrypted;
        var held = new[] { upload ? null : source, into }.Where(s => s is { Encrypted: true }).All(s => s!.Held);
        var userAgent = request.Headers.UserAgent.ToString();
        var verdict = WebDavRules.Decide(sourceEncrypted, destinationEncrypted, E2eeClientPolicy.Allows(userAgent, request.Headers["X-E2EE-SUPPORTED"].ToString()), token, held);
        if (verdict == DavWriteVerdict.Pass)
        {
            var stagedWrite = upload ? into?.Encrypted == true : source!.Encrypted && (destination is null || into!.Encrypted);
            return !stagedWrite || await StageAsync(http, tenant, credentials, path, destination);
        }

        var (status, exception, message) = WebDavRules.Refusal(verdict, userAgent);
        logger.LogInformation("Front door of {TenantId}: {Method} refused for {UserId} ({Verdict})", tenant.TenantId, request.Method, userId, verdict);
        var aimedAt = new[] { source, into }.FirstOrDefault(s => s is { Encrypted: true })?.FolderId;
        var client = userAgent.Length == 0 ? null : userAgent;
        await refusals.RecordAsync(new WebDavRefusal(tenant.TenantId, userId, EdgeRateLimits.Source(http), client, aimedAt ?? "", request.Method.ToUpperInvariant(),
            WebDavRules.RefusalCode(verdict)), http.RequestAborted);
        await WriteErrorAsync(http, status, exception, message, forbidden: status == 403);
        return false;
    }

    /// <summary>
    /// Whether the folder that holds <paramref name="path"/> is one Keyward knows as encrypted (a GET of a missing file
    /// there is served from its staged deletion). False when it cannot be told: the instance's own answer then stands.
    /// </summary>
    public async Task<bool> InEncryptedFolderAsync(FrontDoorTenant tenant, string userId, IHeaderDictionary credentials, string path, CancellationToken ct)
    {
        if (WebDavRules.Parent(path) is not { } parent)
        {
            return false;
        }

        var folder = await instance.DavNodeAsync(tenant, credentials, parent, ct);
        try
        {
            return folder is { Exists: true, IsFolder: true, FileId: { } id } && await IsFlaggedAsync(tenant, userId, id, ct);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            return false;
        }
    }

    private async Task<bool> IsFlaggedAsync(FrontDoorTenant tenant, string userId, string folderId, CancellationToken ct)
    {
        var found = await metadata.FindEncryptedAsync(new FindEncryptedRequest { FolderIds = { folderId } }, AsUser(tenant, userId),
            deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct);
        return found.EncryptedIds.Contains(folderId);
    }

    /// <summary>The services' credentials for the front door's caller (a delegated tenant token).</summary>
    private Grpc.Core.Metadata AsUser(FrontDoorTenant tenant, string userId) => new() { { "authorization", "Bearer " + tokens.For(tenant.TenantId, userId) } };

    /// <summary>
    /// Stages an accepted write into an encrypted folder until unlock (reference §1.4): PUT and MKCOL go to
    /// <c>name.e2e-to-save</c>, a COPY or MOVE (chunk assembly included, unlike the reference) to a staged destination, and
    /// a DELETE becomes a move to <c>name.e2e-to-delete</c>. Names with those suffixes are reserved. True: forward the
    /// (rewritten) request; false: answered here.
    /// </summary>
    private async Task<bool> StageAsync(HttpContext http, FrontDoorTenant tenant, IHeaderDictionary credentials, string path, string? destination)
    {
        var method = http.Request.Method.ToUpperInvariant();
        if (method == "PROPPATCH")
        {
            return true;
        }

        if (method is "PUT" or "MKCOL" or "DELETE" && WebDavRules.HasReservedSuffix(path))
        {
            await WriteErrorAsync(http, 403, ForbiddenException, "Not allowed to create file with reserved suffix!", forbidden: true);
            return false;
        }

        switch (method)
        {
            case "PUT" or "MKCOL":
                http.Request.Path = PathString.FromUriComponent(WebDavRules.WithSuffix(path, WebDavRules.SaveSuffix));
                return true;
            case "DELETE":
                var target = WebDavRules.WithSuffix(path, WebDavRules.DeleteSuffix);
                var moved = await instance.DavAsync(tenant, credentials, "MOVE", path,
                    new Dictionary<string, string> { ["Destination"] = new Uri(tenant.BaseUrl, target.TrimStart('/')).ToString(), ["Overwrite"] = "T" }, http.RequestAborted);
                http.Response.StatusCode = moved is 201 or 204 ? 204 : moved;
                return false;
            default:
                var original = http.Request.Headers["Destination"].ToString();
                var staged = WebDavRules.WithSuffix(destination!, WebDavRules.SaveSuffix);
                http.Request.Headers["Destination"] = Uri.TryCreate(original, UriKind.Absolute, out var absolute)
                    ? new UriBuilder(absolute) { Path = staged }.Uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)
                    : staged;
                return true;
        }
    }

    /// <summary>
    /// After an unlock through the front door: the staged items of every finalised folder made final (commit: saved ones
    /// over their names, deleted ones deleted for good, without the trash bin) or undone (abort). Direct children only, as
    /// the reference. Returns how many items could not be finalised (logged; the metadata's unlock stands).
    /// </summary>
    public async Task<int> FinalizeAsync(FrontDoorCaller caller, string userId, IReadOnlyList<string> folderIds, bool abort, CancellationToken ct)
    {
        var failed = 0;
        foreach (var folderId in folderIds)
        {
            var folder = await instance.FindFileAsync(caller.Tenant, caller.InstanceCredentials, userId, folderId, ct);
            if (folder is not { IsFolder: true })
            {
                continue;
            }

            var href = PathOf(folder.Value.Href);
            if (WebDavRules.WithoutSuffix(href, out var folderDeleted) is { } restored && folderDeleted)
            {
                // The folder itself was deleted under the lock (an encrypted root, staged in its plain parent): gone for
                // good on commit, back under its name on abort; what is staged inside goes or stays with it.
                if (!await FinalizeItemAsync(caller, folderId, href, restored, keep: abort, ct))
                {
                    failed++;
                }

                if (!abort)
                {
                    continue;
                }

                href = restored;
            }

            var (_, _, _, listing) = await instance.PropFindAsync(caller.Tenant, caller.InstanceCredentials, href, "1",
                ResourceTypeOnly, ct);
            foreach (var child in listing?.Root?.Elements(Dav + "response").Skip(1).Select(r => r.Element(Dav + "href")?.Value).OfType<string>() ?? [])
            {
                var childPath = PathOf(child);
                if (WebDavRules.WithoutSuffix(childPath, out var deleted) is not { } final)
                {
                    continue;
                }

                // Abort restores deletions and drops saves; commit keeps saves and makes deletions final.
                if (!await FinalizeItemAsync(caller, folderId, childPath, final, keep: abort == deleted, ct))
                {
                    failed++;
                }
            }
        }

        return failed;
    }

    /// <summary>Moves a staged item to its final name (<paramref name="keep"/>) or deletes it for good, without the trash bin.</summary>
    private async Task<bool> FinalizeItemAsync(FrontDoorCaller caller, string folderId, string stagedPath, string finalPath, bool keep, CancellationToken ct)
    {
        var status = keep
            ? await instance.DavAsync(caller.Tenant, caller.InstanceCredentials, "MOVE", stagedPath,
                new Dictionary<string, string> { ["Destination"] = new Uri(caller.Tenant.BaseUrl, finalPath.TrimStart('/')).ToString(), ["Overwrite"] = "T" }, ct)
            : await instance.DavAsync(caller.Tenant, caller.InstanceCredentials, "DELETE", stagedPath, new Dictionary<string, string> { ["X-NC-Skip-Trashbin"] = "true" }, ct);
        if (status is 201 or 204)
        {
            return true;
        }

        logger.LogWarning("Front door of {TenantId}: a staged item of folder {FolderId} could not be {Action} (the instance answered {Status})",
            caller.Tenant.TenantId, folderId, keep ? "moved into place" : "removed", status);
        return false;
    }

    private const string ResourceTypeOnly = """<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>""";

    /// <summary>A multistatus href as a path (servers may send absolute URLs).</summary>
    private static string PathOf(string href) => href.StartsWith('/') ? href : new Uri(href).AbsolutePath;

    private const string ForbiddenException = "OCA\\DAV\\Connector\\Sabre\\Exception\\Forbidden";

    /// <summary>Sabre's error document; Nextcloud's Forbidden adds <c>o:retry</c> and <c>o:reason</c>.</summary>
    private static Task WriteErrorAsync(HttpContext http, int status, string exception, string message, bool forbidden = false)
    {
        var error = new XElement(Dav + "error", new XAttribute(XNamespace.Xmlns + "d", Dav), new XAttribute(XNamespace.Xmlns + "s", Sabre),
            new XElement(Sabre + "exception", exception), new XElement(Sabre + "message", message));
        if (forbidden)
        {
            error.Add(new XAttribute(XNamespace.Xmlns + "o", Oc), new XElement(Oc + "retry", "false"), new XElement(Oc + "reason", message));
        }

        http.Response.StatusCode = status;
        http.Response.ContentType = "application/xml; charset=utf-8";
        return http.Response.WriteAsync("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + error);
    }

    private static readonly XNamespace Nc = "http://nextcloud.org/ns";
    private static readonly XName[] E2eeProperties = [Nc + "is-encrypted", Nc + "e2ee-is-encrypted", Nc + "e2ee-metadata", Nc + "e2ee-metadata-signature"];
    private const int MaxPropFindBody = 1 << 20;

    /// <summary>
    /// A PROPFIND of the user's files that asks for the E2EE properties (reference §1.6), or comes from a client that may
    /// not see encrypted content: answered here from the instance's multistatus with the properties filled in from
    /// Keyward. False: nothing of that kind, the request goes to the instance unchanged.
    /// </summary>
    public async Task<bool> TryPropFindAsync(HttpContext http, FrontDoorTenant tenant, string userId, IHeaderDictionary credentials)
    {
        var request = http.Request;
        if (request.ContentLength is > MaxPropFindBody)
        {
            return false;
        }

        request.EnableBuffering(MaxPropFindBody);
        var text = await new StreamReader(request.Body, leaveOpen: true).ReadToEndAsync(http.RequestAborted);
        request.Body.Position = 0;
        XDocument? body;
        try
        {
            body = string.IsNullOrWhiteSpace(text) ? null : XDocument.Parse(text);
        }
        catch (System.Xml.XmlException)
        {
            body = null;
        }

        var prop = body?.Root?.Element(Dav + "prop");
        var requested = prop?.Elements().Select(e => e.Name).ToHashSet() ?? [];
        var userAgent = request.Headers.UserAgent.ToString();
        var clientAllowed = E2eeClientPolicy.Allows(userAgent, request.Headers["X-E2EE-SUPPORTED"].ToString());
        var wanted = E2eeProperties.Where(requested.Contains).ToHashSet();
        // A listing is answered here too: inside an encrypted folder it must hide what is staged (reference §1.4).
        var listing = request.Headers["Depth"].ToString() != "0";
        if (prop is null ? !listing && clientAllowed : wanted.Count == 0 && clientAllowed && !listing)
        {
            return false;
        }

        try
        {
            if (prop is null)
            {
                return await TryBarePropFindAsync(http, tenant, userId, credentials, text, clientAllowed, userAgent, listing);
            }

            // What the properties are computed from; taken out again if the client did not ask for them.
            var added = new[] { Oc + "fileid", Dav + "resourcetype" }.Where(n => !requested.Contains(n)).ToList();
            added.ForEach(n => prop.Add(new XElement(n)));
            await AnswerPropFindAsync(http, tenant, userId, credentials, body!, requested, wanted, added, clientAllowed, userAgent);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !http.RequestAborted.IsCancellationRequested
            || e is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded })
        {
            logger.LogWarning("Front door of {TenantId}: PROPFIND could not be answered ({Reason})", tenant.TenantId, e.Message);
            await WriteErrorAsync(http, 503, "Sabre\\DAV\\Exception\\ServiceUnavailable", "The end-to-end encryption state of this folder cannot be read now; try again later");
        }

        return true;
    }

    /// <summary>
    /// An <c>allprop</c> (or empty) PROPFIND names no properties to work from, yet the same rules hold for it when its target
    /// is an encrypted folder: 403 for a client that may not see encrypted content, and a listing without staged saves
    /// and with staged deletions under their names. Any other target goes to the instance unchanged (false). When Keyward
    /// cannot say whether the target is encrypted, the caller answers 503, as for any PROPFIND it answers.
    /// </summary>
    private async Task<bool> TryBarePropFindAsync(HttpContext http, FrontDoorTenant tenant, string userId, IHeaderDictionary credentials, string body,
        bool clientAllowed, string userAgent, bool listing)
    {
        var request = http.Request;
        var path = request.Path.ToUriComponent();
        var node = await instance.DavNodeAsync(tenant, credentials, path, http.RequestAborted);
        if (node is not { Exists: true, IsFolder: true, FileId: { } id } || !await IsFlaggedAsync(tenant, userId, id, http.RequestAborted))
        {
            return false;
        }

        if (!clientAllowed)
        {
            await WriteErrorAsync(http, 403, ForbiddenException, $"Client \"{userAgent}\" is not allowed to access end-to-end encrypted content", forbidden: true);
            return true;
        }

        var (status, contentType, text, answer) = await instance.PropFindAsync(tenant, credentials, path + request.QueryString, request.Headers["Depth"].ToString(), body,
            http.RequestAborted);
        if (answer is not null && listing)
        {
            HideStaged(answer.Root!.Elements(Dav + "response").Skip(1));
            text = answer.Declaration + answer.ToString(SaveOptions.DisableFormatting);
        }

        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        await http.Response.WriteAsync(text);
        return true;
    }

    private async Task AnswerPropFindAsync(HttpContext http, FrontDoorTenant tenant, string userId, IHeaderDictionary credentials, XDocument body,
        HashSet<XName> requested, HashSet<XName> wanted, List<XName> added, bool clientAllowed, string userAgent)
    {
        var request = http.Request;
        var (status, contentType, text, answer) = await instance.PropFindAsync(tenant, credentials, request.Path.ToUriComponent() + request.QueryString,
            request.Headers["Depth"].ToString(), body.ToString(), http.RequestAborted);
        if (answer is null)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = contentType;
            await http.Response.WriteAsync(text);
            return;
        }

        var auth = AsUser(tenant, userId);
        var responses = answer.Root!.Elements(Dav + "response").ToList();
        var nodes = responses.Select(r => (Response: r, Id: Found(r, Oc + "fileid")?.Value, IsFolder: Found(r, Dav + "resourcetype")?.Element(Dav + "collection") is not null)).ToList();
        // A file is encrypted when its folder is: in a listing the target, for a single file its parent.
        string? parentOfTarget = null;
        if (nodes.Count > 0 && !nodes[0].IsFolder && WebDavRules.Parent(request.Path.ToUriComponent()) is { } parentPath)
        {
            parentOfTarget = (await instance.DavNodeAsync(tenant, credentials, parentPath, http.RequestAborted)).FileId;
        }

        var ids = nodes.Select(n => n.Id).Append(parentOfTarget).OfType<string>().Distinct().Take(FolderQueriesLimit).ToList();
        var encrypted = (await metadata.FindEncryptedAsync(new FindEncryptedRequest { FolderIds = { ids } }, auth, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: http.RequestAborted))
            .EncryptedIds.ToHashSet(StringComparer.Ordinal);
        bool Flagged(string? id) => id is not null && encrypted.Contains(id);

        if (!clientAllowed && nodes.Count > 0 && nodes[0].IsFolder && Flagged(nodes[0].Id))
        {
            await WriteErrorAsync(http, 403, "OCA\\DAV\\Connector\\Sabre\\Exception\\Forbidden", $"Client \"{userAgent}\" is not allowed to access end-to-end encrypted content", forbidden: true);
            return;
        }

        if (nodes.Count > 1 && nodes[0].IsFolder && Flagged(nodes[0].Id))
        {
            HideStaged(nodes.Skip(1).Select(n => n.Response));

            nodes = nodes.Where(n => n.Response.Parent is not null).ToList();
        }
        else if (nodes.Count > 1)
        {
            // An encrypted root deleted under its lock is staged in this plain folder and still listed under its name.
            foreach (var (response, id, isFolder) in nodes.Skip(1))
            {
                var href = response.Element(Dav + "href")!;
                if (isFolder && Flagged(id) && WebDavRules.WithoutSuffix(href.Value, out var deleted) is { } final && deleted)
                {
                    href.Value = final;
                }
            }
        }

        var folderOfFiles = nodes.Count > 0 && nodes[0].IsFolder ? nodes[0].Id : parentOfTarget;
        foreach (var (response, id, isFolder) in nodes)
        {
            var flagged = isFolder ? Flagged(id) : Flagged(folderOfFiles);
            if (wanted.Contains(Nc + "is-encrypted") && isFolder)
            {
                Set(response, Nc + "is-encrypted", Flagged(id) ? "1" : "0");
            }

            if (wanted.Contains(Nc + "e2ee-is-encrypted"))
            {
                Set(response, Nc + "e2ee-is-encrypted", flagged ? "1" : "0");
            }

            if (isFolder && Flagged(id) && (wanted.Contains(Nc + "e2ee-metadata") || wanted.Contains(Nc + "e2ee-metadata-signature")))
            {
                try
                {
                    var committed = await metadata.GetMetadataAsync(new GetMetadataRequest { FolderId = id, ApiVersion = ApiVersion.V2 }, auth,
                        deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: http.RequestAborted);
                    if (wanted.Contains(Nc + "e2ee-metadata"))
                    {
                        Set(response, Nc + "e2ee-metadata", committed.Metadata);
                    }

                    if (wanted.Contains(Nc + "e2ee-metadata-signature"))
                    {
                        Set(response, Nc + "e2ee-metadata-signature", committed.Signature);
                    }
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.PermissionDenied or StatusCode.FailedPrecondition)
                {
                    // Nothing committed yet, or not this caller's to read: the properties stay in the 404 propstat.
                }
            }

            if (!clientAllowed && isFolder && Flagged(id) && requested.Contains(Nc + "is-encrypted") && Found(response, Oc + "permissions") is { } permissions)
            {
                permissions.Value = ""; // reference §1.6: listings blank the permissions of encrypted folders for such clients
            }

            foreach (var name in added)
            {
                response.Descendants(name).Remove();
            }

            response.Elements(Dav + "propstat").Where(p => p.Element(Dav + "prop")?.HasElements != true).Remove();
        }

        http.Response.StatusCode = 207;
        http.Response.ContentType = "application/xml; charset=utf-8";
        await http.Response.WriteAsync(answer.Declaration + answer.ToString(SaveOptions.DisableFormatting));
    }

    private const int FolderQueriesLimit = 1000;

    /// <summary>In a listing of an encrypted folder, staged saves are invisible until unlock and staged deletions show under their own names.</summary>
    private static void HideStaged(IEnumerable<XElement> children)
    {
        foreach (var response in children.ToList())
        {
            var href = response.Element(Dav + "href")!;
            if (WebDavRules.WithoutSuffix(href.Value, out var deleted) is { } final)
            {
                if (deleted)
                {
                    href.Value = final;
                }
                else
                {
                    response.Remove();
                }
            }
        }
    }

    /// <summary>
    /// Whether the caller may have Keyward flag the instance's folder <paramref name="folderId"/> as encrypted (reference
    /// §1.8, stricter): it must be a folder among the caller's files, <b>owned</b> by the caller on the instance (so nobody
    /// can claim another user's folder id first, and a sharee cannot become the owner of a shared folder), and empty.
    /// </summary>
    public async Task<bool> MayFlagAsync(FrontDoorCaller caller, string userId, string folderId, CancellationToken ct)
    {
        var node = await instance.FindFileAsync(caller.Tenant, caller.InstanceCredentials, userId, folderId, ct);
        if (node is not { IsFolder: true } folder || folder.OwnerId != userId)
        {
            logger.LogInformation("Front door of {TenantId}: {UserId} may not flag {FolderId} ({Reason})", caller.Tenant.TenantId, userId, folderId,
                node is null ? "not among their files" : !node.Value.IsFolder ? "not a folder" : $"owned by {node.Value.OwnerId}");
            return false;
        }

        var (status, _, _, listing) = await instance.PropFindAsync(caller.Tenant, caller.InstanceCredentials, PathOf(folder.Href),
            "1", ResourceTypeOnly, ct);
        return status == 207 && listing?.Root?.Elements(Dav + "response").Count() == 1;
    }

    /// <summary>A property of the 200 propstat of a response.</summary>
    private static XElement? Found(XElement response, XName name) => response.Elements(Dav + "propstat")
        .Where(p => p.Element(Dav + "status")?.Value.Contains(" 200 ", StringComparison.Ordinal) == true)
        .Select(p => p.Element(Dav + "prop")?.Element(name)).FirstOrDefault(e => e is not null);

    /// <summary>Moves a property into the 200 propstat with a value (out of the 404 one, where an unmodified server puts it).</summary>
    private static void Set(XElement response, XName name, string value)
    {
        response.Descendants(name).Remove();
        var ok = response.Elements(Dav + "propstat").FirstOrDefault(p => p.Element(Dav + "status")?.Value.Contains(" 200 ", StringComparison.Ordinal) == true);
        if (ok is null)
        {
            ok = new XElement(Dav + "propstat", new XElement(Dav + "prop"), new XElement(Dav + "status", "HTTP/1.1 200 OK"));
            response.Element(Dav + "href")!.AddAfterSelf(ok);
        }

        ok.Element(Dav + "prop")!.Add(new XElement(name, value));
    }
}
