using System.Globalization;
using System.Net;
using System.Xml.Linq;

namespace Keyward.Cli;

/// <summary>
/// Where folders and the encrypted file bodies live. Keyward holds keys and metadata only; the files are the file
/// layer's. Through a Nextcloud front door that is the instance (WebDAV, its share API); with a Keyward token a local
/// directory stands in for it (KEYWARD_STORE).
/// </summary>
public abstract class FileLayer
{
    public static FileLayer For(OcsApi api) => api.ThroughNextcloud ? new NextcloudFiles(api) : new LocalStore();

    /// <summary>Makes an empty folder and returns its file id.</summary>
    public abstract Task<string> CreateFolderAsync(string name);

    /// <summary>Writes an encrypted body into the folder, under the folder's lock (<paramref name="lockToken"/>).</summary>
    public abstract Task PutAsync(string folderId, string objectName, byte[] body, string lockToken);

    public abstract Task<byte[]> GetAsync(string folderId, string objectName);

    /// <summary>Gives the user access to the folder's files (Keyward's metadata decides whether they can read them).</summary>
    public abstract Task ShareAsync(string folderId, string userId);

    public abstract Task UnshareAsync(string folderId, string userId);

    private sealed class LocalStore : FileLayer
    {
        // Without an instance there is no file id to take: the CLI picks one, out of the range Nextcloud counts in.
        public override Task<string> CreateFolderAsync(string name) =>
            Task.FromResult(Random.Shared.NextInt64(1_000_000_000, long.MaxValue).ToString(CultureInfo.InvariantCulture));

        public override async Task PutAsync(string folderId, string objectName, byte[] body, string lockToken)
        {
            var directory = Path.Combine(DeviceState.Store, folderId);
            Directory.CreateDirectory(directory);
            await File.WriteAllBytesAsync(Path.Combine(directory, objectName), body);
        }

        public override async Task<byte[]> GetAsync(string folderId, string objectName)
        {
            var path = Path.Combine(DeviceState.Store, folderId, objectName);
            return File.Exists(path) ? await File.ReadAllBytesAsync(path)
                : throw new CliError($"the encrypted body {objectName} is not in the store {DeviceState.Store}");
        }

        public override Task ShareAsync(string folderId, string userId) => Task.CompletedTask;

        public override Task UnshareAsync(string folderId, string userId) => Task.CompletedTask;
    }

    /// <summary>
    /// The user's files on the Nextcloud instance, through the front door: folders made with MKCOL, found again by file
    /// id (SEARCH, so a folder shared into someone else's tree is found under its path there), bodies PUT with the lock's
    /// <c>e2e-token</c> (the front door refuses them otherwise, and stages them until unlock), user shares (type 0)
    /// through the instance's share API.
    /// </summary>
    private sealed class NextcloudFiles(OcsApi api) : FileLayer
    {
        private const string ShareApi = "/ocs/v2.php/apps/files_sharing/api/v1/shares";
        private static readonly XNamespace Dav = "DAV:";
        private static readonly XNamespace Oc = "http://owncloud.org/ns";
        private static readonly HttpMethod PropFind = new("PROPFIND");
        private static readonly HttpMethod Search = new("SEARCH");
        private static readonly HttpMethod MakeCollection = new("MKCOL");
        private readonly Dictionary<string, string> _paths = new(StringComparer.Ordinal);

        private string Home => $"/remote.php/dav/files/{Uri.EscapeDataString(api.UserId)}/";

        public override async Task<string> CreateFolderAsync(string name)
        {
            if (name.Contains('/') || name is "." or "..")
            {
                throw new CliError($"'{name}' is not a folder name (no slashes)");
            }

            var href = Home + Uri.EscapeDataString(name);
            using (var made = await api.SendRawAsync(new HttpRequestMessage(MakeCollection, href)))
            {
                if (made.StatusCode == HttpStatusCode.MethodNotAllowed)
                {
                    throw new CliError($"'{name}' exists in your files on the instance already; choose another name");
                }

                await EnsureAsync(made, $"MKCOL {name}");
            }

            using var request = new HttpRequestMessage(PropFind, href)
            {
                Content = new StringContent(new XElement(Dav + "propfind", new XAttribute(XNamespace.Xmlns + "d", Dav), new XAttribute(XNamespace.Xmlns + "oc", Oc),
                    new XElement(Dav + "prop", new XElement(Oc + "fileid"))).ToString(), System.Text.Encoding.UTF8, "application/xml"),
            };
            request.Headers.Add("Depth", "0");
            using var found = await api.SendRawAsync(request);
            await EnsureAsync(found, $"PROPFIND {name}");
            var id = XDocument.Parse(await found.Content.ReadAsStringAsync()).Descendants(Oc + "fileid").FirstOrDefault()?.Value;
            _paths[id ?? throw new CliError($"the instance named no file id for '{name}'")] = name;
            return id;
        }

        public override async Task PutAsync(string folderId, string objectName, byte[] body, string lockToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, Home + await PathOfAsync(folderId) + "/" + Uri.EscapeDataString(objectName))
            {
                Content = new ByteArrayContent(body),
            };
            request.Headers.Add("e2e-token", lockToken);
            using var response = await api.SendRawAsync(request);
            await EnsureAsync(response, $"uploading {objectName}");
        }

        public override async Task<byte[]> GetAsync(string folderId, string objectName)
        {
            using var response = await api.SendRawAsync(new HttpRequestMessage(HttpMethod.Get, Home + await PathOfAsync(folderId) + "/" + Uri.EscapeDataString(objectName)));
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new CliError($"the encrypted body {objectName} is not in the folder on the instance");
            }

            await EnsureAsync(response, $"downloading {objectName}");
            return await response.Content.ReadAsByteArrayAsync();
        }

        public override async Task ShareAsync(string folderId, string userId)
        {
            var path = "/" + Uri.UnescapeDataString(await PathOfAsync(folderId));
            if (await UserShareAsync(path, userId) is not null)
            {
                return;
            }

            var (status, _, message) = await api.OcsAsync(HttpMethod.Post, ShareApi, new Dictionary<string, string>
            {
                ["path"] = path, ["shareType"] = "0", ["shareWith"] = userId, ["permissions"] = "31",
            });
            if (status != 200)
            {
                throw new CliError($"the instance did not share {path} with {userId}: {status} {message}".TrimEnd());
            }
        }

        public override async Task UnshareAsync(string folderId, string userId)
        {
            var path = "/" + Uri.UnescapeDataString(await PathOfAsync(folderId));
            if (await UserShareAsync(path, userId) is not { } id)
            {
                return;
            }

            var (status, _, message) = await api.OcsAsync(HttpMethod.Delete, $"{ShareApi}/{Uri.EscapeDataString(id)}");
            if (status != 200)
            {
                throw new CliError($"the instance did not remove the share of {path} with {userId}: {status} {message}".TrimEnd());
            }
        }

        /// <summary>The id of the caller's user share of <paramref name="path"/> with <paramref name="userId"/>, if there is one.</summary>
        private async Task<string?> UserShareAsync(string path, string userId)
        {
            var (status, data, message) = await api.OcsAsync(HttpMethod.Get, $"{ShareApi}?path={Uri.EscapeDataString(path)}");
            if (status != 200)
            {
                throw new CliError($"the instance did not list the shares of {path}: {status} {message}".TrimEnd());
            }

            return data?.AsArray().FirstOrDefault(s => s?["share_type"]?.ToString() == "0" && s["share_with"]?.ToString() == userId && s["path"]?.ToString() == path)?["id"]?.ToString();
        }

        /// <summary>The folder's path in the caller's files (escaped, no slashes at the ends), by a SEARCH for its file id.</summary>
        private async Task<string> PathOfAsync(string folderId)
        {
            if (_paths.TryGetValue(folderId, out var known))
            {
                return known;
            }

            var query = new XElement(Dav + "searchrequest", new XAttribute(XNamespace.Xmlns + "d", Dav), new XAttribute(XNamespace.Xmlns + "oc", Oc),
                new XElement(Dav + "basicsearch",
                    new XElement(Dav + "select", new XElement(Dav + "prop", new XElement(Oc + "fileid"))),
                    new XElement(Dav + "from", new XElement(Dav + "scope", new XElement(Dav + "href", $"/files/{api.UserId}"), new XElement(Dav + "depth", "infinity"))),
                    new XElement(Dav + "where", new XElement(Dav + "eq", new XElement(Dav + "prop", new XElement(Oc + "fileid")), new XElement(Dav + "literal", folderId))),
                    new XElement(Dav + "orderby")));
            using var request = new HttpRequestMessage(Search, "/remote.php/dav/") { Content = new StringContent(query.ToString(), System.Text.Encoding.UTF8, "text/xml") };
            using var response = await api.SendRawAsync(request);
            await EnsureAsync(response, $"finding folder {folderId}");
            var href = XDocument.Parse(await response.Content.ReadAsStringAsync()).Descendants(Dav + "response")
                .FirstOrDefault(r => r.Descendants(Oc + "fileid").Any(f => f.Value == folderId))?.Element(Dav + "href")?.Value;
            if (href is null || !href.StartsWith(Home, StringComparison.Ordinal))
            {
                throw new CliError($"folder {folderId} is not among your files on the instance (not shared with you there?)");
            }

            return _paths[folderId] = href[Home.Length..].Trim('/');
        }

        /// <summary>Any answer but 2xx as one line: status and Sabre's message.</summary>
        private static async Task EnsureAsync(HttpResponseMessage response, string what)
        {
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            var text = await response.Content.ReadAsStringAsync();
            string? message = null;
            try
            {
                message = XDocument.Parse(text).Descendants(XNamespace.Get("http://sabredav.org/ns") + "message").FirstOrDefault()?.Value;
            }
            catch (System.Xml.XmlException)
            {
            }

            throw new CliError($"{what}: {(int)response.StatusCode} {message ?? response.ReasonPhrase}");
        }
    }
}
