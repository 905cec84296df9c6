using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Keyward.NextcloudStandIn;

/// <summary>A share: a public link (type 3, <see cref="Token"/>) or a folder shared with a user (type 0, <see cref="ShareWith"/>, seen by them at <see cref="Mount"/>).</summary>
public sealed record StandInShare(long Id, int Type, string Token, string OwnerUid, string Path, long NodeId, bool IsFolder, int Permissions,
    string ShareWith = "", string Mount = "");

/// <summary>
/// Shares as the front door and the clients see them (reference §7c): the owner's OCS share API
/// (<c>apps/files_sharing/api/v1/shares</c>: create, list — all or of one <c>path</c> —, delete) for public links and
/// for folders shared with a user, and the anonymous <c>shareinfo</c> lookup by token.
/// </summary>
public static class Shares
{
    private const string Api = "/ocs/v2.php/apps/files_sharing/api/v1/shares";
    private static readonly ConcurrentDictionary<long, StandInShare> Book = new();
    private static long _nextId = 1;

    public static void Map(WebApplication app, Accounts accounts, FileTree files)
    {
        app.MapPost(Api, async (HttpContext http) =>
        {
            if (accounts.Authenticate(http.Request, ocs: true) is not { } user)
            {
                return Ocs.Write(http, 2, Ocs.NotLoggedIn, "Current user is not logged in", null);
            }

            var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync() : null;
            var path = form?["path"].ToString() ?? http.Request.Query["path"].ToString();
            var type = form?["shareType"].ToString();
            if (type is not ("0" or "3") || files.Resolve(user.Uid, path) is not { } full || !(File.Exists(full) || Directory.Exists(full)) || files.OwnerOf(full) != user.Uid)
            {
                return Ocs.Write(http, 2, 404, "Wrong path, file/folder does not exist", null);
            }

            var permissions = int.TryParse(form?["permissions"], out var p) ? p : type == "0" ? 31 : 1;
            var share = new StandInShare(Interlocked.Increment(ref _nextId), int.Parse(type, System.Globalization.CultureInfo.InvariantCulture),
                type == "3" ? Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()[..15] : "",
                user.Uid, "/" + path.Trim('/'), files.IdOf(full), Directory.Exists(full), permissions);
            if (type == "0")
            {
                var with = form?["shareWith"].ToString() ?? "";
                if (!accounts.Exists(with) || with == user.Uid || !Directory.Exists(full))
                {
                    return Ocs.Write(http, 2, 404, "Please specify a valid user", null);
                }

                if (Book.Values.Any(s => s.Type == 0 && s.NodeId == share.NodeId && s.ShareWith == with))
                {
                    return Ocs.Write(http, 2, 403, "Path is already shared with this user", null);
                }

                share = share with { ShareWith = with, Mount = files.Mount(full, with) };
            }

            Book[share.Id] = share;
            return Ocs.Write(http, 2, 200, "OK", Format(share));
        });

        app.MapGet(Api, (HttpContext http) =>
        {
            if (accounts.Authenticate(http.Request, ocs: true) is not { } user)
            {
                return Ocs.Write(http, 2, Ocs.NotLoggedIn, "Current user is not logged in", null);
            }

            var path = http.Request.Query["path"].ToString();
            var own = Book.Values.Where(s => s.OwnerUid == user.Uid && (path.Length == 0 || s.Path == "/" + path.Trim('/')));
            return Ocs.Write(http, 2, 200, "OK", own.OrderBy(s => s.Id).Select(Format).ToList());
        });

        app.MapDelete(Api + "/{id:long}", (HttpContext http, long id) =>
        {
            if (accounts.Authenticate(http.Request, ocs: true) is not { } user)
            {
                return Ocs.Write(http, 2, Ocs.NotLoggedIn, "Current user is not logged in", null);
            }

            if (!Book.TryGetValue(id, out var share) || share.OwnerUid != user.Uid || !Book.TryRemove(id, out _))
            {
                return Ocs.Write(http, 2, 404, "Wrong share ID, share does not exist", null);
            }

            if (share.Mount.Length > 0)
            {
                FileTree.Unmount(share.Mount);
            }

            return Ocs.Write(http, 2, 200, "OK", null);
        });

        // Anonymous: unknown token 404 [], otherwise the node (reference §7c; no READ permission would be 403).
        app.MapPost("/index.php/apps/files_sharing/shareinfo", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            var share = Book.Values.FirstOrDefault(s => s.Type == 3 && s.Token == form["t"].ToString());
            if (share is null)
            {
                return Results.Json(Array.Empty<object>(), statusCode: 404);
            }

            return (share.Permissions & 1) == 0
                ? Results.Json(Array.Empty<object>(), statusCode: 403)
                : Results.Json(new { id = share.NodeId, name = share.Path.TrimStart('/'), permissions = share.Permissions, type = share.IsFolder ? "dir" : "file" });
        });
    }

    private static Dictionary<string, object?> Format(StandInShare share) => new()
    {
        ["id"] = share.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["share_type"] = share.Type,
        ["share_with"] = share.Type == 0 ? share.ShareWith : null,
        ["share_with_displayname"] = share.Type == 0 ? share.ShareWith : null,
        ["uid_owner"] = share.OwnerUid,
        ["uid_file_owner"] = share.OwnerUid,
        ["permissions"] = share.Permissions,
        ["token"] = share.Type == 3 ? share.Token : null,
        ["item_source"] = share.NodeId,
        ["file_source"] = share.NodeId,
        ["path"] = share.Path,
        ["item_type"] = share.IsFolder ? "folder" : "file",
        ["expiration"] = null,
    };
}
