using System.Globalization;
using System.Xml.Linq;

namespace Keyward.NextcloudStandIn;

/// <summary>
/// The WebDAV of <c>/remote.php/dav/files/&lt;uid&gt;/</c>, as much of it as the front door and the clients' file
/// flow need. Written by hand: no WebDAV server package is served here, and the stand-in needs Nextcloud's own
/// properties (<c>oc:fileid</c>, <c>oc:owner-id</c>, …) and its answers, not a general server.
/// </summary>
public static class WebDav
{
    private static readonly XNamespace Dav = "DAV:";
    private static readonly XNamespace Oc = "http://owncloud.org/ns";
    private static readonly XNamespace Nc = "http://nextcloud.org/ns";
    private static readonly XNamespace Sabre = "http://sabredav.org/ns";
    private const string Root = "/remote.php/dav/files/";

    private static readonly XName[] DefaultProperties =
    [
        Dav + "getlastmodified", Dav + "getetag", Dav + "getcontenttype", Dav + "getcontentlength", Dav + "resourcetype",
        Oc + "fileid", Oc + "permissions", Oc + "size", Oc + "owner-id",
    ];

    public static void Map(WebApplication app, Accounts accounts, FileTree files)
    {
        string[] methods = ["PROPFIND", "PROPPATCH", "GET", "HEAD", "PUT", "MKCOL", "DELETE", "MOVE", "COPY"];
        app.MapMethods(Root + "{uid}/{**path}", methods, async (HttpContext http, string uid, string? path) =>
        {
            if (accounts.Authenticate(http.Request, ocs: false) is not { } user)
            {
                http.Response.Headers.WWWAuthenticate = "Basic realm=\"Nextcloud\", charset=\"UTF-8\"";
                return Error(401, "NotAuthenticated", "No public access to this resource., No 'Authorization: Basic' header found");
            }

            if (user.Uid != uid || files.Resolve(uid, path ?? "") is not { } target)
            {
                return Error(403, "Forbidden", "Access to this resource is not allowed");
            }

            var request = new DavRequest(http, user, files, target, path ?? "");
            return http.Request.Method switch
            {
                "PROPFIND" => await request.PropFindAsync(),
                "PROPPATCH" => await request.PropPatchAsync(),
                "GET" or "HEAD" => request.Get(),
                "PUT" => await request.PutAsync(),
                "MKCOL" => request.MakeCollection(),
                "DELETE" => request.Delete(),
                _ => request.MoveOrCopy(move: http.Request.Method == "MOVE"),
            };
        });
    }

    /// <summary>
    /// <c>SEARCH /remote.php/dav/</c> by <c>oc:fileid</c> within the caller's own files (reference §7b): the node with that
    /// id, with the properties the search selects, or an empty multistatus.
    /// </summary>
    public static void MapSearch(WebApplication app, Accounts accounts, FileTree files)
    {
        app.MapMethods("/remote.php/dav/", ["SEARCH"], async (HttpContext http) =>
        {
            if (accounts.Authenticate(http.Request, ocs: false) is not { } user)
            {
                return Error(401, "NotAuthenticated", "No public access to this resource.");
            }

            XElement query;
            try
            {
                using var reader = new StreamReader(http.Request.Body);
                query = XElement.Parse(await reader.ReadToEndAsync(http.RequestAborted));
            }
            catch (System.Xml.XmlException)
            {
                return Error(400, "BadRequest", "The search request is not XML");
            }

            var scope = query.Descendants(Dav + "scope").Elements(Dav + "href").FirstOrDefault()?.Value.TrimEnd('/');
            var literal = query.Descendants(Dav + "eq").FirstOrDefault(e => e.Element(Dav + "prop")?.Element(Oc + "fileid") is not null)?.Element(Dav + "literal")?.Value;
            if (scope != $"/files/{user.Uid}" || !long.TryParse(literal, CultureInfo.InvariantCulture, out var id))
            {
                return Error(400, "BadRequest", "Only searches by oc:fileid in the user's own files are supported by the stand-in");
            }

            var selected = query.Descendants(Dav + "select").Elements(Dav + "prop").Elements().Select(e => e.Name).ToList();
            var home = files.Resolve(user.Uid, "")!;
            var found = files.PathOf(id) is { } owned && files.ViewOf(user.Uid, owned) is { } path
                ? new DavRequest(http, user, files, path, path[(home.Length + 1)..]).Describe(selected)
                : null;
            var multistatus = new XElement(Dav + "multistatus", new XAttribute(XNamespace.Xmlns + "d", Dav), new XAttribute(XNamespace.Xmlns + "oc", Oc), new XAttribute(XNamespace.Xmlns + "nc", Nc), found);
            return Results.Text(new XDocument(new XDeclaration("1.0", "utf-8", null), multistatus).ToString(), "application/xml; charset=utf-8", statusCode: 207);
        });
    }

    /// <summary>Sabre's error document.</summary>
    internal static IResult Error(int status, string exception, string message) => Results.Text(
        new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement(Dav + "error", new XAttribute(XNamespace.Xmlns + "d", Dav), new XAttribute(XNamespace.Xmlns + "s", Sabre),
            new XElement(Sabre + "exception", $"Sabre\\DAV\\Exception\\{exception}"), new XElement(Sabre + "message", message))).ToString(),
        "application/xml; charset=utf-8", statusCode: status);

    private sealed class DavRequest(HttpContext http, StandInUser user, FileTree files, string target, string path)
    {
        private HttpRequest Request => http.Request;

        public async Task<IResult> PropFindAsync()
        {
            if (!Exists(target))
            {
                return Error(404, "NotFound", $"File with name {path} could not be located");
            }

            var wanted = await RequestedPropertiesAsync();
            var entries = new List<FileSystemInfo> { Info(target) };
            if (Request.Headers["Depth"] != "0" && Directory.Exists(target))
            {
                entries.AddRange(new DirectoryInfo(target).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal));
            }

            var multistatus = new XElement(Dav + "multistatus", new XAttribute(XNamespace.Xmlns + "d", Dav), new XAttribute(XNamespace.Xmlns + "s", Sabre),
                new XAttribute(XNamespace.Xmlns + "oc", Oc), new XAttribute(XNamespace.Xmlns + "nc", Nc),
                entries.Select(e => Response(e, wanted)));
            return Results.Text(new XDocument(new XDeclaration("1.0", "utf-8", null), multistatus).ToString(), "application/xml; charset=utf-8", statusCode: 207);
        }

        public async Task<IResult> PropPatchAsync()
        {
            if (!Exists(target))
            {
                return Error(404, "NotFound", $"File with name {path} could not be located");
            }

            // Accepted and not kept: the clients set mtimes and favourites, nothing the front door reads.
            var names = (await BodyAsync())?.Descendants(Dav + "prop").SelectMany(p => p.Elements()).Select(e => e.Name).ToList() ?? [];
            var response = new XElement(Dav + "response", new XElement(Dav + "href", Href(Info(target))),
                new XElement(Dav + "propstat", new XElement(Dav + "prop", names.Select(n => new XElement(n))), new XElement(Dav + "status", "HTTP/1.1 200 OK")));
            return Results.Text(new XElement(Dav + "multistatus", new XAttribute(XNamespace.Xmlns + "d", Dav), response).ToString(), "application/xml; charset=utf-8", statusCode: 207);
        }

        public IResult Get()
        {
            if (!File.Exists(target))
            {
                return Directory.Exists(target) ? Error(405, "MethodNotAllowed", "GET is only implemented on File objects") : Error(404, "NotFound", $"File with name {path} could not be located");
            }

            var info = new FileInfo(target);
            http.Response.Headers["OC-FileId"] = FileTree.OcId(files.IdOf(target));
            http.Response.Headers.ETag = ETag(info);
            return Results.File(target, "application/octet-stream", lastModified: info.LastWriteTimeUtc, enableRangeProcessing: true);
        }

        public async Task<IResult> PutAsync()
        {
            if (Directory.Exists(target))
            {
                return Error(405, "MethodNotAllowed", "PUT is not allowed on non-files.");
            }

            if (!Directory.Exists(Path.GetDirectoryName(target)))
            {
                return Error(409, "Conflict", "Files can only be created as children of collections");
            }

            var existed = File.Exists(target);
            var partial = $"{target}.ocTransferId{Random.Shared.Next()}.part";
            await using (var stream = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await Request.Body.CopyToAsync(stream, http.RequestAborted);
            }

            File.Move(partial, target, overwrite: true);
            if (long.TryParse(Request.Headers["X-OC-MTime"], CultureInfo.InvariantCulture, out var mtime))
            {
                File.SetLastWriteTimeUtc(target, DateTimeOffset.FromUnixTimeSeconds(mtime).UtcDateTime);
                http.Response.Headers["X-OC-MTime"] = "accepted";
            }

            var info = new FileInfo(target);
            http.Response.Headers["OC-FileId"] = FileTree.OcId(files.IdOf(target));
            http.Response.Headers.ETag = http.Response.Headers["OC-ETag"] = ETag(info);
            return Results.StatusCode(existed ? 204 : 201);
        }

        public IResult MakeCollection()
        {
            if (Exists(target))
            {
                return Error(405, "MethodNotAllowed", "The resource you tried to create already exists");
            }

            if (!Directory.Exists(Path.GetDirectoryName(target)))
            {
                return Error(409, "Conflict", "Parent node does not exist");
            }

            Directory.CreateDirectory(target);
            http.Response.Headers["OC-FileId"] = FileTree.OcId(files.IdOf(target));
            return Results.StatusCode(201);
        }

        public IResult Delete()
        {
            if (!Exists(target))
            {
                return Error(404, "NotFound", $"File with name {path} could not be located");
            }

            if (new DirectoryInfo(target).LinkTarget is not null)
            {
                FileTree.Unmount(target); // a recipient deleting a folder shared with them leaves the share, as on Nextcloud
                return Results.StatusCode(204);
            }

            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }
            else
            {
                File.Delete(target);
            }

            files.Forget(target);
            return Results.StatusCode(204);
        }

        public IResult MoveOrCopy(bool move)
        {
            if (!Exists(target))
            {
                return Error(404, "NotFound", $"File with name {path} could not be located");
            }

            var destinationHeader = Request.Headers["Destination"].ToString();
            var destinationPath = Uri.TryCreate(destinationHeader, UriKind.Absolute, out var absolute) ? absolute.AbsolutePath : destinationHeader;
            var prefix = $"{Root}{user.Uid}/";
            if (!destinationPath.StartsWith(prefix, StringComparison.Ordinal) || files.Resolve(user.Uid, Uri.UnescapeDataString(destinationPath[prefix.Length..])) is not { } destination)
            {
                return Error(502, "BadGateway", "The destination node is not found");
            }

            if (!Directory.Exists(Path.GetDirectoryName(destination)))
            {
                return Error(409, "Conflict", "The destination node is not found");
            }

            var existed = Exists(destination);
            if (existed && Request.Headers["Overwrite"] == "F")
            {
                return Error(412, "PreconditionFailed", "The destination node already exists, and the overwrite header is set to false");
            }

            if (existed)
            {
                if (Directory.Exists(destination)) { Directory.Delete(destination, true); } else { File.Delete(destination); }
                files.Forget(destination);
            }

            if (move)
            {
                if (Directory.Exists(target)) { Directory.Move(target, destination); } else { File.Move(target, destination); }
                files.Renamed(target, destination);
            }
            else
            {
                Copy(target, destination);
            }

            return Results.StatusCode(existed ? 204 : 201);
        }

        private static void Copy(string from, string to)
        {
            if (File.Exists(from))
            {
                File.Copy(from, to);
                return;
            }

            Directory.CreateDirectory(to);
            foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
            {
                Copy(entry.FullName, Path.Combine(to, entry.Name));
            }
        }

        private async Task<XElement?> BodyAsync()
        {
            using var reader = new StreamReader(Request.Body);
            var text = await reader.ReadToEndAsync(http.RequestAborted);
            return string.IsNullOrWhiteSpace(text) ? null : XElement.Parse(text);
        }

        private async Task<IReadOnlyList<XName>> RequestedPropertiesAsync()
        {
            var body = await BodyAsync();
            var prop = body?.Element(Dav + "prop");
            return prop is null ? DefaultProperties : prop.Elements().Select(e => e.Name).ToList();
        }

        /// <summary>The response element of the target, with the given properties (a search result).</summary>
        public XElement Describe(IReadOnlyList<XName> wanted) => Response(Info(target), wanted);

        private XElement Response(FileSystemInfo entry, IReadOnlyList<XName> wanted)
        {
            var found = new List<XElement>();
            var missing = new List<XElement>();
            foreach (var name in wanted)
            {
                if (Property(entry, name) is { } value)
                {
                    found.Add(value);
                }
                else
                {
                    missing.Add(new XElement(name));
                }
            }

            var response = new XElement(Dav + "response", new XElement(Dav + "href", Href(entry)));
            if (found.Count > 0)
            {
                response.Add(new XElement(Dav + "propstat", new XElement(Dav + "prop", found), new XElement(Dav + "status", "HTTP/1.1 200 OK")));
            }

            if (missing.Count > 0)
            {
                response.Add(new XElement(Dav + "propstat", new XElement(Dav + "prop", missing), new XElement(Dav + "status", "HTTP/1.1 404 Not Found")));
            }

            return response;
        }

        /// <summary>
        /// The properties an unmodified Nextcloud serves; anything else (among them <c>nc:is-encrypted</c> and the
        /// <c>nc:e2ee-*</c> properties, which only the E2EE app adds) is null and goes into the 404 propstat.
        /// </summary>
        private XElement? Property(FileSystemInfo entry, XName name)
        {
            var isFolder = entry is DirectoryInfo;
            object? value = name switch
            {
                _ when name == Dav + "getlastmodified" => entry.LastWriteTimeUtc.ToString("R", CultureInfo.InvariantCulture),
                _ when name == Dav + "getetag" => ETag(entry),
                _ when name == Dav + "getcontenttype" => isFolder ? "httpd/unix-directory" : "application/octet-stream",
                _ when name == Dav + "getcontentlength" && !isFolder => ((FileInfo)entry).Length,
                _ when name == Dav + "resourcetype" => isFolder ? new XElement(Dav + "collection") : "",
                _ when name == Dav + "displayname" => entry.Name,
                _ when name == Oc + "fileid" => files.IdOf(entry.FullName),
                _ when name == Oc + "id" => FileTree.OcId(files.IdOf(entry.FullName)),
                _ when name == Oc + "permissions" => isFolder ? "RGDNVCK" : "RGDNVW",
                _ when name == Oc + "owner-id" => files.OwnerOf(entry.FullName),
                _ when name == Oc + "owner-display-name" => files.OwnerOf(entry.FullName),
                _ when name == Oc + "size" => isFolder ? ((DirectoryInfo)entry).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : ((FileInfo)entry).Length,
                _ when name == Nc + "mount-type" => "",
                _ when name == Nc + "is-mount-root" => "false",
                _ when name == Nc + "has-preview" => "false",
                _ when name == Nc + "contained-file-count" && isFolder => ((DirectoryInfo)entry).EnumerateFiles().Count(),
                _ when name == Nc + "contained-folder-count" && isFolder => ((DirectoryInfo)entry).EnumerateDirectories().Count(),
                _ => null,
            };
            return value is null ? null : new XElement(name, value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value);
        }

        private string Href(FileSystemInfo entry)
        {
            var home = files.Resolve(user.Uid, "")!;
            var relative = entry.FullName.Length > home.Length ? entry.FullName[(home.Length + 1)..] : "";
            var escaped = string.Join('/', relative.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Select(Uri.EscapeDataString));
            return $"{Root}{Uri.EscapeDataString(user.Uid)}/{escaped}{(entry is DirectoryInfo && escaped.Length > 0 ? "/" : "")}";
        }

        private static bool Exists(string fullPath) => File.Exists(fullPath) || Directory.Exists(fullPath);

        private static FileSystemInfo Info(string fullPath) => Directory.Exists(fullPath) ? new DirectoryInfo(fullPath) : new FileInfo(fullPath);

        private static string ETag(FileSystemInfo entry) =>
            $"\"{(entry.LastWriteTimeUtc.Ticks ^ (entry is FileInfo f ? f.Length : 0)):x}\"";
    }
}
