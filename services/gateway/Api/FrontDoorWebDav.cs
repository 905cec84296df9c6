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
public sealed class FrontDoorWebDav(NextcloudInstance instance, DelegatedTokens tokens, MetadataClient metadata, ILogger<FrontDoorWebDav> logger)
{
    private static readonly XNamespace Dav = "DAV:";
    private static readonly XNamespace Sabre = "http://sabredav.org/ns";
    private static readonly XNamespace Oc = "http://owncloud.org/ns";

    private sealed record Side(bool Encrypted, bool Held, bool Unreachable = false);

    /// <summary>True when the write may go to the instance; otherwise the refusal has been answered.</summary>
    public async Task<bool> AllowsAsync(HttpContext http, FrontDoorTenant tenant, string userId, IHeaderDictionary credentials)
    {
        var request = http.Request;
        var path = request.Path.ToUriComponent();
        var token = request.Headers[WebDavRules.TokenHeader].ToString() is { Length: > 0 } header ? header : request.Query[WebDavRules.TokenHeader].ToString();
        var auth = new Grpc.Core.Metadata { { "authorization", "Bearer " + tokens.For(tenant.TenantId, userId) } };
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
                return new Side(true, check.Held);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return new Side(false, false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.PermissionDenied)
            {
                return new Side(true, false); // encrypted, and not this caller's: their token cannot be its lock's
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
            return true;
        }

        var (status, exception, message) = WebDavRules.Refusal(verdict, userAgent);
        logger.LogInformation("Front door of {TenantId}: {Method} refused for {UserId} ({Verdict})", tenant.TenantId, request.Method, userId, verdict);
        await WriteErrorAsync(http, status, exception, message, forbidden: status == 403);
        return false;
    }

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
}
