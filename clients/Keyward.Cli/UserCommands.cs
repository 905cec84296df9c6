using System.CommandLine;
using System.Security.Cryptography;
using Keyward.Client;

namespace Keyward.Cli;

/// <summary>The user's commands: keys, devices, folders and files, sharing.</summary>
public static class UserCommands
{
    public static IEnumerable<Command> Create() =>
        [Init(), Device(), Folder(), Put(), Get(), List(), Share(), Unshare(), Status(), KeyTransparencyClient.Monitor(), WitnessCommands.Create(), KeyAdministration.Recovery(), KeyAdministration.Certificates()];

    private static Command Init()
    {
        var acceptRecovery = KeyAdministration.AcceptRecoveryOption();
        var command = new Command("init", "first device: make your key pair and 12-word mnemonic, get a certificate, upload the encrypted private key") { acceptRecovery };
        command.SetAction(parse => Run(async () =>
        {
            using var api = new OcsApi();
            var (status, _, _, _) = await api.SendAsync(HttpMethod.Get, "private-key");
            if (status == 200)
            {
                throw new CliError($"{api.UserId} already has keys on the server: on this device run `keyward device add`");
            }

            var serverKey = await api.ServerKeyAsync();
            using var key = DeviceKeys.NewKeyPair();
            var mnemonic = Mnemonics.Generate();
            Progress("requesting a certificate for your new key…");
            var certificate = (await api.OkAsync(HttpMethod.Post, "public-key", new Dictionary<string, string> { ["csr"] = DeviceKeys.CreateCsr(key, api.UserId) }))!["public-key"]!.GetValue<string>();
            if (!DeviceKeys.IsIssuedBy(certificate, serverKey) || !DeviceKeys.Matches(certificate, key))
            {
                throw new CliError("the server returned a certificate that is not for this key or not signed by its server key; nothing was stored");
            }

            Progress("encrypting your private key with the mnemonic (PBKDF2, 600 000 rounds)…");
            var blob = PrivateKeyVault.Encrypt(key, mnemonic);
            await api.OkAsync(HttpMethod.Post, "private-key", new Dictionary<string, string> { ["privateKey"] = blob });
            var device = DeviceState.For(api.UserId, key, certificate, serverKey);
            device.OwnSubjects.Add(BlobHash(blob));
            device.Save();
            Progress("checking that the key-transparency log lists your new certificate…");
            await KeyTransparencyClient.VerifyCertificateAsync(api, device, api.UserId, certificate);
            await KeyAdministration.EscrowIfRecoveryEnabledAsync(api, key, device, parse.GetValue(acceptRecovery));
            Console.WriteLine("Your 12-word mnemonic. Write it down now: it is shown once, never sent, and the only way to add a device or recover your files:");
            Console.WriteLine();
            Console.WriteLine($"    {mnemonic}");
            Console.WriteLine();
            Console.WriteLine($"Keys for {api.UserId} are set up (certificate {DeviceKeys.Fingerprint(certificate)[..16]}…).");
            return 0;
        }));
        return command;
    }

    private static Command Device()
    {
        var mnemonic = new Option<string?>("--mnemonic") { Description = "the 12 words (read from standard input when omitted)" };
        var acceptRecovery = KeyAdministration.AcceptRecoveryOption();
        var add = new Command("add", "another device: fetch your encrypted private key and open it with your mnemonic") { mnemonic, acceptRecovery };
        add.SetAction(parse => Run(async () =>
        {
            var words = parse.GetValue(mnemonic) ?? Console.In.ReadLine() ?? "";
            if (!Mnemonics.IsValid(words))
            {
                throw new CliError("that is not a valid 12-word mnemonic (check the words and their order)");
            }

            using var api = new OcsApi();
            var blob = (await api.OkAsync(HttpMethod.Get, "private-key"))!["private-key"]!.GetValue<string>();
            RSA key;
            try
            {
                key = PrivateKeyVault.Decrypt(blob, words);
            }
            catch (CryptographicException)
            {
                throw new CliError("the mnemonic does not open your private key");
            }

            using (key)
            {
                await AdoptKeyAsync(api, key, parse.GetValue(acceptRecovery), BlobHash(blob));
            }

            Console.WriteLine($"This device now holds {api.UserId}'s keys.");
            return 0;
        }));
        var device = new Command("device", "devices of your account");
        device.Subcommands.Add(add);
        foreach (var command in KeyAdministration.DeviceCommands())
        {
            device.Subcommands.Add(command);
        }

        return device;
    }

    private static Command Folder()
    {
        var name = new Argument<string>("name") { Description = "a local name for the folder" };
        var create = new Command("create", "create an end-to-end encrypted folder") { name };
        create.SetAction(parse => Run(async () =>
        {
            var device = DeviceState.Load();
            var folderName = parse.GetValue(name)!;
            if (device.Folders.ContainsKey(folderName))
            {
                throw new CliError($"a folder called '{folderName}' exists on this device already");
            }

            using var api = new OcsApi();
            var id = await FileLayer.For(api).CreateFolderAsync(folderName);
            await api.OkAsync(HttpMethod.Put, $"encrypted/{id}");
            await FolderSession.New(id, device).SaveAsync(api, device, create: true);
            device.Folders[folderName] = id;
            device.Save();
            Console.WriteLine($"created encrypted folder '{folderName}' (id {id})");
            return 0;
        }));
        var folder = new Command("folder", "encrypted folders");
        folder.Subcommands.Add(create);
        folder.Subcommands.Add(Versions());
        folder.Subcommands.Add(Restore());
        folder.Subcommands.Add(Unlock());
        return folder;
    }

    /// <summary>Breaks a stuck lock: your own once it has been idle, or (an admin) any lock with --force and a reason.</summary>
    private static Command Unlock()
    {
        var folder = new Argument<string>("folder") { Description = "folder name (on this device) or id" };
        var force = new Option<bool>("--force") { Description = "admin: break the lock whoever holds it and however recently it was used" };
        var reason = new Option<string?>("--reason") { Description = "why the lock is forced (required with --force; goes into the audit trail)" };
        var command = new Command("unlock", "break a stuck lock without its token; what was written under it is rolled back as an abort does") { folder, force, reason };
        command.SetAction(parse => Run(async () =>
        {
            var name = parse.GetValue(folder)!;
            var id = DeviceState.Exists ? DeviceState.Load().FolderId(name) : name;
            using var api = new OcsApi();
            var broken = await api.RestAsync(HttpMethod.Post, $"/v1/folders/{id}/lock:break", new { force = parse.GetValue(force), reason = parse.GetValue(reason) ?? "" });
            Console.WriteLine($"broke the lock on folder {id} held by {broken!["lockedBy"]} since {broken["lockedAt"]}; {broken["rolledBackFolders"] ?? 0} folder(s) rolled back");
            return 0;
        }));
        return command;
    }

    private static Command Versions()
    {
        var folder = new Argument<string>("folder") { Description = "folder name or id" };
        var command = new Command("versions", "a folder's metadata versions, newest first, and whether the server verified each one's signature") { folder };
        command.SetAction(parse => Run(async () =>
        {
            var device = DeviceState.Load();
            using var api = new OcsApi();
            var id = device.FolderId(parse.GetValue(folder)!);
            // Paged by the server (at most 100 a request), printed as they come.
            var before = 0;
            do
            {
                var page = await api.RestAsync(HttpMethod.Get, $"/v1/folders/{id}/versions?pageSize=100" + (before > 0 ? $"&before={before}" : ""));
                foreach (var version in page!["versions"]?.AsArray() ?? [])
                {
                    var verified = version!["signatureVerified"]?.GetValue<bool>() == true ? "verified" : "not verified";
                    Console.WriteLine($"{version["number"]}\t{version["kind"]}\tcounter {version["counter"] ?? 0}\t{version["committedAt"]}\t{version["committedBy"]}\t{verified}");
                }

                before = page["nextBefore"]?.GetValue<int>() ?? 0;
            }
            while (before > 0);
            return 0;
        }));
        return command;
    }

    private static Command Restore()
    {
        var folder = new Argument<string>("folder") { Description = "folder name or id" };
        var number = new Option<int>("--version") { Description = "the version whose files to bring back (see keyward folder versions)", Required = true };
        var command = new Command("restore", "bring back the files of an earlier version, as a new version with the next counter") { folder, number };
        command.SetAction(parse => Run(async () =>
        {
            var device = DeviceState.Load();
            using var api = new OcsApi();
            var session = await FolderSession.OpenAsync(api, device, device.FolderId(parse.GetValue(folder)!));
            var wanted = parse.GetValue(number);
            Progress($"reading version {wanted} and checking its signature…");
            await session.TakeFilesOfVersionAsync(api, device, wanted);
            Progress("writing it back under a lock…");
            await session.SaveAsync(api, device, create: false);
            Console.WriteLine($"restored the files of version {wanted} in folder {session.FolderId}: {session.Content.Files.Count} file(s), counter {session.Content.Counter}");
            return 0;
        }));
        return command;
    }

    private static Command Put()
    {
        var folder = new Argument<string>("folder") { Description = "folder name or id" };
        var file = new Argument<FileInfo>("file") { Description = "the file to encrypt and add" };
        var command = new Command("put", "encrypt a file into a folder") { folder, file };
        command.SetAction(parse => Run(async () =>
        {
            var source = parse.GetValue(file)!;
            if (!source.Exists)
            {
                throw new CliError($"no such file: {source.FullName}");
            }

            var device = DeviceState.Load();
            using var api = new OcsApi();
            var session = await FolderSession.OpenAsync(api, device, device.FolderId(parse.GetValue(folder)!));
            Progress($"encrypting {source.Name} ({source.Length:N0} bytes)…");
            var existing = session.Content.Files.FirstOrDefault(f => f.Value.Filename == source.Name).Key;
            var (body, entry) = FileCrypto.Encrypt(await File.ReadAllBytesAsync(source.FullName), source.Name, "application/octet-stream");
            // An update keeps the object name, with a new key and nonce (reference §f).
            var objectName = existing ?? FileCrypto.NewObjectName();
            session.Content.Files[objectName] = entry;
            Progress("uploading it and the folder's metadata under a lock…");
            var files = FileLayer.For(api);
            await session.SaveAsync(api, device, create: false, token => files.PutAsync(session.FolderId, objectName, body, token));
            Console.WriteLine($"{source.Name} → {objectName}");
            return 0;
        }));
        return command;
    }

    private static Command Get()
    {
        var folder = new Argument<string>("folder") { Description = "folder name or id" };
        var name = new Argument<string>("name") { Description = "the file's name in the folder" };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "where to write it (default: standard output)" };
        var command = new Command("get", "decrypt a file from a folder") { folder, name, output };
        command.SetAction(parse => Run(async () =>
        {
            var device = DeviceState.Load();
            using var api = new OcsApi();
            var session = await FolderSession.OpenAsync(api, device, device.FolderId(parse.GetValue(folder)!));
            var wanted = parse.GetValue(name)!;
            var (objectName, entry) = session.Content.Files.FirstOrDefault(f => f.Value.Filename == wanted);
            if (entry is null)
            {
                throw new CliError($"no file '{wanted}' in folder {session.FolderId}");
            }

            var content = FileCrypto.Decrypt(await FileLayer.For(api).GetAsync(session.FolderId, objectName), entry);
            if (parse.GetValue(output) is { } target)
            {
                await File.WriteAllBytesAsync(target.FullName, content);
            }
            else
            {
                await using var stdout = Console.OpenStandardOutput();
                await stdout.WriteAsync(content);
            }

            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var folder = new Argument<string>("folder") { Description = "folder name or id" };
        var command = new Command("ls", "list a folder's files and who it is shared with") { folder };
        command.SetAction(parse => Run(async () =>
        {
            var device = DeviceState.Load();
            using var api = new OcsApi();
            var session = await FolderSession.OpenAsync(api, device, device.FolderId(parse.GetValue(folder)!));
            foreach (var file in session.Content.Files.Values.OrderBy(f => f.Filename, StringComparer.Ordinal))
            {
                Console.WriteLine(file.Filename);
            }

            Console.Error.WriteLine($"users: {string.Join(", ", session.Users.Select(u => u.UserId))}; counter {session.Content.Counter}");
            return 0;
        }));
        return command;
    }

    private static Command Share() => ShareCommand("share", "share a folder with a user: a new metadata key, wrapped for everyone including them", add: true);

    private static Command Unshare() => ShareCommand("unshare", "stop sharing a folder with a user: a new metadata key for the others (files are not re-encrypted)", add: false);

    private static Command ShareCommand(string name, string description, bool add)
    {
        var folder = new Argument<string>("folder") { Description = "folder name or id" };
        var user = new Argument<string>("user") { Description = "the user id" };
        var acceptNew = new Option<bool>("--accept-new-certificate") { Description = "trust a certificate that differs from the one pinned for this user" };
        var command = new Command(name, description) { folder, user };
        if (add)
        {
            command.Options.Add(acceptNew);
        }

        command.SetAction(parse => Run(async () =>
        {
            var device = DeviceState.Load();
            using var api = new OcsApi();
            var session = await FolderSession.OpenAsync(api, device, device.FolderId(parse.GetValue(folder)!));
            var userId = parse.GetValue(user)!;
            if (add)
            {
                if (session.Users.Any(u => u.UserId == userId))
                {
                    throw new CliError($"the folder is already shared with {userId}");
                }

                var certificate = await api.CertificateOfAsync(userId);
                if (!DeviceKeys.IsIssuedBy(certificate, device.ServerKeyPem))
                {
                    throw new CliError($"{userId}'s certificate was not issued by the server key; not sharing");
                }

                // The server alone cannot hand us a key of its own making: the tenant's signed, append-only log must list it.
                await KeyTransparencyClient.VerifyCertificateAsync(api, device, userId, certificate);
                device = DeviceState.Load();

                var fingerprint = DeviceKeys.Fingerprint(certificate);
                if (device.PinnedCertificates.TryGetValue(userId, out var pinned) && pinned != fingerprint && !parse.GetValue(acceptNew))
                {
                    throw new CliError($"WARNING: {userId}'s certificate changed since you last saw it ({pinned[..16]}… → {fingerprint[..16]}…); check with them, then use --accept-new-certificate");
                }

                device.PinnedCertificates[userId] = fingerprint;
                session.Users.Add(new FolderUser(userId, certificate));
            }
            else if (session.Users.RemoveAll(u => u.UserId == userId) == 0)
            {
                throw new CliError($"the folder is not shared with {userId}");
            }
            else if (userId == device.UserId)
            {
                throw new CliError("you cannot unshare your own folder from yourself");
            }

            // On the instance the files are shared first and unshared last: nobody is left in the metadata without the files, or the other way round for long.
            var files = FileLayer.For(api);
            if (add)
            {
                await files.ShareAsync(session.FolderId, userId);
            }

            session.RotateKey();
            await session.SaveAsync(api, device, create: false);
            if (!add)
            {
                await files.UnshareAsync(session.FolderId, userId);
            }

            Console.WriteLine(add ? $"shared with {userId}" : $"{userId} removed; they cannot read what is written from now on");
            return 0;
        }));
        return command;
    }

    /// <summary>What this device holds and what happened to the user's keys that the user must know: recovery and escrow releases.</summary>
    private static Command Status()
    {
        var command = new Command("status", "your keys on this device, your organisation's key recovery, and every time an escrow copy of your key was released");
        command.SetAction(_ => Run(async () =>
        {
            var device = DeviceState.Load();
            using var api = new OcsApi();
            Console.WriteLine($"user: {device.UserId}");
            Console.WriteLine($"certificate: {DeviceKeys.Fingerprint(device.CertificatePem)}");
            var policy = await api.RestAsync(HttpMethod.Get, "/v1/keys/recovery");
            var recovery = policy?["enabled"]?.GetValue<bool>() == true ? (string?)policy["fingerprint"] : null;
            Console.WriteLine(recovery is null ? "key recovery: off"
                : recovery == device.RecoveryFingerprint ? $"key recovery: on, key {recovery} (you consented; your key is escrowed to it)"
                : $"key recovery: on, key {recovery} — NOT the one you consented to ({device.RecoveryFingerprint ?? "none"}); nothing escrowed to it");
            var releases = (await api.RestAsync(HttpMethod.Get, "/v1/keys/escrow/releases"))?["releases"]?.AsArray() ?? [];
            Console.WriteLine(releases.Count == 0 ? "escrow releases: none" : $"escrow releases: {releases.Count}");
            foreach (var release in releases)
            {
                var approvedBy = string.Join(", ", release!["approvedBy"]?.AsArray().Select(a => (string?)a) ?? []);
                Console.WriteLine($"  RELEASED {release["releasedAt"]} to {release["releasedTo"]}, approved by {approvedBy}");
            }

            return 0;
        }));
        return command;
    }

    /// <summary>Makes a private key this device's, after checking it against the user's certificate and the server key.</summary>
    public static async Task AdoptKeyAsync(OcsApi api, RSA key, string? acceptRecovery, string? blobHash = null, string? deviceRequestId = null)
    {
        var serverKey = await api.ServerKeyAsync();
        var certificate = await api.CertificateOfAsync(api.UserId);
        if (!DeviceKeys.Matches(certificate, key) || !DeviceKeys.IsIssuedBy(certificate, serverKey))
        {
            throw new CliError("your stored certificate does not match your private key or the server key");
        }

        var device = DeviceState.For(api.UserId, key, certificate, serverKey);
        // Adopting the key again on this device keeps the recovery key its user consented to, and what it knew of the logs.
        if (DeviceState.Exists && DeviceState.Load() is { } previous && previous.UserId == api.UserId)
        {
            device.RecoveryFingerprint = previous.RecoveryFingerprint;
            device.KeepLogMemory(previous);
        }

        foreach (var subject in new[] { blobHash, deviceRequestId }.OfType<string>())
        {
            device.OwnSubjects.Add(subject);
        }

        device.Save();
        await KeyTransparencyClient.VerifyCertificateAsync(api, device, api.UserId, certificate);
        device = DeviceState.Load();
        await KeyAdministration.EscrowIfRecoveryEnabledAsync(api, key, device, acceptRecovery);
    }

    private static void Progress(string message) => Console.Error.WriteLine(message);

    /// <summary>The private-key blob's hash as the key-transparency log names it.</summary>
    public static string BlobHash(string blob) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(blob)));

    /// <summary>Runs a command; every failure is one line on standard error and a non-zero exit.</summary>
    public static async Task<int> Run(Func<Task<int>> work)
    {
        try
        {
            return await work();
        }
        catch (CliError e)
        {
            Console.Error.WriteLine($"keyward: {e.Message}");
            return 1;
        }
        catch (CryptographicException e)
        {
            Console.Error.WriteLine($"keyward: cryptographic check failed: {e.Message}");
            return 1;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"keyward: {e.Message}");
            return 1;
        }
    }
}
