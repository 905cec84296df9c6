using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Keyward.NextcloudStandIn;

public sealed record StandInShare(long Id, string Token, string OwnerUid, string Path, long NodeId, bool IsFolder, int Permissions);

/// <summary>
/// Public link shares (share type 3) as the front door sees them (reference §7c): the owner's OCS share API
/// (<c>apps/files_sharing/api/v1/shares</c>: create, list, delete) and the anonymous <c>shareinfo</c> lookup by token.
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
            if (form?["shareType"].ToString() is not "3" || files.Resolve(user.Uid, path) is not { } full || !(File.Exists(full) || Directory.Exists(full)))
            {
                return Ocs.Write(http, 2, 404, "Wrong path, file/folder does not exist", null);
            }

            var permissions = int.TryParse(form?["permissions"], out var p) ? p : 1;
            var share = new StandInShare(Interlocked.Increment(ref _nextId), Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()[..15],
                user.Uid, "/" + path.Trim('/'), files.IdOf(full), Directory.Exists(full), permissions);
            Book[share.Id] = share;
            return Ocs.Write(http, 2, 200, "OK", Format(share));
        });

        app.MapGet(Api, (HttpContext http) => accounts.Authenticate(http.Request, ocs: true) is { } user
            ? Ocs.Write(http, 2, 200, "OK", Book.Values.Where(s => s.OwnerUid == user.Uid).OrderBy(s => s.Id).Select(Format).ToList())
            : Ocs.Write(http, 2, Ocs.NotLoggedIn, "Current user is not logged in", null));

        app.MapDelete(Api + "/{id:long}", (HttpContext http, long id) =>
        {
            if (accounts.Authenticate(http.Request, ocs: true) is not { } user)
            {
                return Ocs.Write(http, 2, Ocs.NotLoggedIn, "Current user is not logged in", null);
            }

            return Book.TryGetValue(id, out var share) && share.OwnerUid == user.Uid && Book.TryRemove(id, out _)
                ? Ocs.Write(http, 2, 200, "OK", null)
                : Ocs.Write(http, 2, 404, "Wrong share ID, share does not exist", null);
        });

        // Anonymous: unknown token 404 [], otherwise the node (reference §7c; no READ permission would be 403).
        app.MapPost("/index.php/apps/files_sharing/shareinfo", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            var share = Book.Values.FirstOrDefault(s => s.Token == form["t"].ToString());
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
        ["share_type"] = 3,
        ["uid_owner"] = share.OwnerUid,
        ["uid_file_owner"] = share.OwnerUid,
        ["permissions"] = share.Permissions,
        ["token"] = share.Token,
        ["item_source"] = share.NodeId,
        ["file_source"] = share.NodeId,
        ["path"] = share.Path,
        ["item_type"] = share.IsFolder ? "folder" : "file",
        ["expiration"] = null,
    };
}
