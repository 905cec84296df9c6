using System.Globalization;
using System.Security.Cryptography;
using Keyward.Client;

namespace Keyward.Cli;

/// <summary>
/// One encrypted root folder as this device sees it: fetched, decrypted and verified like a Nextcloud client
/// does, changed locally, then written back under a lock with the next counter.
/// </summary>
public sealed class FolderSession
{
    private FolderSession(string folderId, FolderContent content, byte[] metadataKey, List<FolderUser> users)
    {
        FolderId = folderId;
        Content = content;
        MetadataKey = metadataKey;
        Users = users;
    }

    public string FolderId { get; }

    public FolderContent Content { get; }

    public byte[] MetadataKey { get; private set; }

    public List<FolderUser> Users { get; }

    public static FolderSession New(string folderId, DeviceState device)
    {
        var content = new FolderContent { Counter = 0 };
        var key = MetadataV2.Rotate(content);
        return new FolderSession(folderId, content, key, [new FolderUser(device.UserId, device.CertificatePem)]);
    }

    public static async Task<FolderSession> OpenAsync(OcsApi api, DeviceState device, string folderId)
    {
        var (status, data, message, response) = await api.SendAsync(HttpMethod.Get, $"meta-data/{folderId}");
        if (status != 200)
        {
            throw new CliError($"cannot read folder {folderId}: {status} {message}");
        }

        var metadata = data!["meta-data"]!.GetValue<string>();
        var signature = response.Headers.TryGetValues("X-NC-E2EE-SIGNATURE", out var values) ? values.Single() : "";
        using var privateKey = device.PrivateKey();
        byte[] key;
        try
        {
            key = MetadataV2.UnwrapKey(metadata, device.UserId, privateKey);
        }
        catch (CryptographicException)
        {
            throw new CliError($"folder {folderId} is not shared with {device.UserId} (its metadata key is not wrapped for this user)");
        }

        var content = MetadataV2.Open(metadata, key);
        var users = MetadataV2.Users(metadata).ToList();
        var check = MetadataV2.Verify(metadata, signature, key, content, device.ServerKeyPem, users,
            device.LastCounters.TryGetValue(folderId, out var counter) ? counter : null, device.LastChecksums.GetValueOrDefault(folderId), device.PinnedCertificates);
        if (!check.IsValid)
        {
            throw new CliError($"folder {folderId}: the metadata does not verify — {check.Problem}");
        }

        Remember(device, folderId, content);
        return new FolderSession(folderId, content, key, users);
    }

    /// <summary>
    /// Brings back the files and sub-folders of an earlier version (read from the server's history, its signature
    /// checked): they are sealed again with the current key, users and key checksums, and the next save writes them
    /// with the next counter — so every client accepts the restore, which a verbatim copy of the old (lower) inner
    /// counter would not.
    /// </summary>
    public async Task TakeFilesOfVersionAsync(OcsApi api, DeviceState device, int number)
    {
        var version = await api.RestAsync(HttpMethod.Get, $"/v1/folders/{FolderId}/versions/{number}");
        var metadata = version!["metadata"]?.GetValue<string>() ?? "";
        if (version["info"]?["kind"]?.GetValue<string>() == "deleted" || metadata.Length == 0)
        {
            throw new CliError($"version {number} of folder {FolderId} deleted its metadata: there is nothing to restore");
        }

        using var privateKey = device.PrivateKey();
        byte[] key;
        try
        {
            key = MetadataV2.UnwrapKey(metadata, device.UserId, privateKey);
        }
        catch (CryptographicException)
        {
            throw new CliError($"version {number} of folder {FolderId} was not shared with {device.UserId}");
        }

        var old = MetadataV2.Open(metadata, key);
        var check = MetadataV2.Verify(metadata, version["signature"]?.GetValue<string>() ?? "", key, old, device.ServerKeyPem, MetadataV2.Users(metadata).ToList(),
            null, null, device.PinnedCertificates);
        if (!check.IsValid)
        {
            throw new CliError($"version {number} of folder {FolderId} does not verify — {check.Problem}; not restoring it");
        }

        Content.Files = old.Files;
        Content.Folders = old.Folders;
    }

    /// <summary>A new metadata key (sharing and unsharing): its checksum joins the list, nothing is re-encrypted.</summary>
    public void RotateKey() => MetadataKey = MetadataV2.Rotate(Content);

    /// <summary>
    /// Writes the folder back: lock with counter+1, whatever <paramref name="underLock"/> writes with the lock's token
    /// (file bodies), the metadata created or updated, unlock; abort on any failure, which rolls the writes back.
    /// </summary>
    public async Task SaveAsync(OcsApi api, DeviceState device, bool create, Func<string, Task>? underLock = null)
    {
        Content.Counter++;
        var metadata = MetadataV2.Seal(Content, MetadataKey, Users);
        using var privateKey = device.PrivateKey();
        var signature = MetadataV2.Sign(metadata, privateKey, device.CertificatePem);
        var counter = Content.Counter.ToString(CultureInfo.InvariantCulture);
        var locked = await api.OkAsync(HttpMethod.Post, $"lock/{FolderId}", headers: new Dictionary<string, string> { ["X-NC-E2EE-COUNTER"] = counter });
        var token = locked!["e2e-token"]!.GetValue<string>();
        var headers = new Dictionary<string, string> { ["e2e-token"] = token, ["X-NC-E2EE-SIGNATURE"] = signature };
        try
        {
            if (underLock is not null)
            {
                await underLock(token);
            }

            await api.OkAsync(create ? HttpMethod.Post : HttpMethod.Put, $"meta-data/{FolderId}", new Dictionary<string, string> { ["metaData"] = metadata }, headers);
        }
        catch
        {
            await api.SendAsync(HttpMethod.Delete, $"lock/{FolderId}?abort=true", headers: new Dictionary<string, string> { ["e2e-token"] = token });
            throw;
        }

        await api.OkAsync(HttpMethod.Delete, $"lock/{FolderId}", headers: new Dictionary<string, string> { ["e2e-token"] = token });
        Remember(device, FolderId, Content);
    }

    private static void Remember(DeviceState device, string folderId, FolderContent content)
    {
        device.LastCounters[folderId] = content.Counter;
        device.LastChecksums[folderId] = content.KeyChecksums?.ToList() ?? [];
        device.Save();
    }
}
