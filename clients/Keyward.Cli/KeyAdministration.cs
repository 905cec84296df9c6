using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Keyward.Client;

namespace Keyward.Cli;

/// <summary>Device-assisted enrollment, the recovery key and certificate re-issue.</summary>
public static class KeyAdministration
{
    /// <summary>
    /// After keys reach a device, when the tenant has recovery on: an escrow copy goes only to the recovery key the user
    /// consented to, by its full fingerprint (<paramref name="acceptRecovery"/>, or the one this device pinned). Any
    /// other key — an admin or the server swapping it — is refused and shown, never silently used.
    /// </summary>
    public static async Task EscrowIfRecoveryEnabledAsync(OcsApi api, RSA privateKey, DeviceState device, string? acceptRecovery, bool consentRequired = false)
    {
        var policy = await api.RestAsync(HttpMethod.Get, "/v1/keys/recovery");
        if (policy?["enabled"]?.GetValue<bool>() != true)
        {
            if (consentRequired)
            {
                throw new CliError("key recovery is not enabled for your organisation: nothing to consent to");
            }

            return;
        }

        var fingerprint = policy["fingerprint"]!.GetValue<string>();
        if (acceptRecovery is not null && !string.Equals(acceptRecovery.Trim(), fingerprint, StringComparison.OrdinalIgnoreCase))
        {
            throw new CliError($"the organisation's recovery key is {fingerprint}, not the one you accepted ({acceptRecovery}); nothing was escrowed");
        }

        if (acceptRecovery is null && device.RecoveryFingerprint != fingerprint)
        {
            var changed = device.RecoveryFingerprint is { } pinned
                ? $"WARNING: the organisation's recovery key CHANGED from {pinned} to {fingerprint}. Your key was NOT escrowed to it. If your admins rotated it, check the new fingerprint with them, then run:"
                : $"Key recovery is enabled by your organisation, with the recovery key {fingerprint}. Nothing was escrowed yet. To let your admins recover your key, check this fingerprint with them, then run:";
            Console.Error.WriteLine(changed);
            Console.Error.WriteLine($"    keyward recovery consent --accept-recovery {fingerprint}");
            if (consentRequired)
            {
                throw new CliError("recovery consent needs --accept-recovery with the full fingerprint");
            }

            return;
        }

        await api.RestAsync(HttpMethod.Put, "/v1/keys/escrow", new { sealedPrivateKey = KeySealing.SealPrivateKey(privateKey, policy["publicKey"]!.GetValue<string>()) });
        device.RecoveryFingerprint = fingerprint;
        device.Save();
        Console.Error.WriteLine($"An escrow copy of your private key, sealed to the recovery key {fingerprint[..16]}…, is stored: only several admins together can release it, and `keyward status` shows you every release.");
    }

    /// <summary>The option every command that brings keys to a device takes.</summary>
    public static Option<string?> AcceptRecoveryOption() => new("--accept-recovery") { Description = "consent to key recovery by this recovery key (its full fingerprint)" };

    public static IEnumerable<Command> DeviceCommands() => [Request(), Approve()];

    private static Command Request()
    {
        var timeout = new Option<int>("--timeout") { Description = "seconds to wait for approval", DefaultValueFactory = _ => 600 };
        var acceptRecovery = AcceptRecoveryOption();
        var command = new Command("request", "on a new device: ask an existing device of yours to hand over your key (no mnemonic needed)") { timeout, acceptRecovery };
        command.SetAction(parse => UserCommands.Run(async () =>
        {
            using var api = new OcsApi();
            using var ephemeral = RSA.Create(3072);
            var request = await api.RestAsync(HttpMethod.Post, "/v1/keys/devices", new { ephemeralPublicKey = ephemeral.ExportSubjectPublicKeyInfoPem() });
            var id = request!["requestId"]!.GetValue<string>();
            // The code is this device's own: computed from its key, never taken from the server.
            var code = DeviceCode.For(id, ephemeral.ExportSubjectPublicKeyInfoPem());
            Console.WriteLine($"This device's code: {code}");
            Console.WriteLine($"On a device that already has your keys run:  keyward device approve --code {code}");
            Console.Error.Write("waiting for approval");
            var deadline = DateTime.UtcNow.AddSeconds(parse.GetValue(timeout));
            while (true)
            {
                var state = await api.RestAsync(HttpMethod.Get, $"/v1/keys/devices/{id}");
                if (state?["sealedPrivateKey"]?.GetValue<string>() is { Length: > 0 } sealedKey)
                {
                    Console.Error.WriteLine();
                    using var key = KeySealing.OpenPrivateKey(sealedKey, ephemeral);
                    await UserCommands.AdoptKeyAsync(api, key, parse.GetValue(acceptRecovery), deviceRequestId: id);
                    Console.WriteLine($"This device now holds {api.UserId}'s keys.");
                    return 0;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new CliError("no device approved the request in time; run `keyward device request` again");
                }

                Console.Error.Write('.');
                await Task.Delay(1000);
            }
        }));
        return command;
    }

    private static Command Approve()
    {
        var code = new Option<string>("--code") { Description = "the six words the new device shows", Required = true };
        var command = new Command("approve", "on a device with your keys: hand your private key, sealed, to a new device that asked") { code };
        command.SetAction(parse => UserCommands.Run(async () =>
        {
            var device = DeviceState.Load();
            using var api = new OcsApi();
            var pending = (await api.RestAsync(HttpMethod.Get, "/v1/keys/devices"))?["requests"]?.AsArray() ?? [];
            var typed = parse.GetValue(code)!;
            if (pending.Count == 0)
            {
                throw new CliError("no pending device request (they expire after 10 minutes)");
            }

            // Recomputed here from the very key this device is about to seal to: a key swapped on the way shows other words.
            var request = pending.FirstOrDefault(r => DeviceCode.Matches(typed, DeviceCode.For(r!["requestId"]!.GetValue<string>(), r["ephemeralPublicKey"]!.GetValue<string>())))
                ?? throw new CliError("no pending device request shows these words: the key listed for your new device is not the one it made. Do not approve; someone may be trying to receive your private key.");
            using var privateKey = device.PrivateKey();
            var sealedKey = KeySealing.SealPrivateKey(privateKey, request["ephemeralPublicKey"]!.GetValue<string>());
            await api.RestAsync(HttpMethod.Post, $"/v1/keys/devices/{request["requestId"]}/approve", new { sealedPrivateKey = sealedKey });
            // The approval and the new device's enrollment appear in key transparency under this id: ours, not flagged.
            device.OwnSubjects.Add(request["requestId"]!.GetValue<string>());
            device.Save();
            Console.WriteLine($"approved the device request {typed}");
            return 0;
        }));
        return command;
    }

    public static Command Recovery()
    {
        var recovery = new Command("recovery", "the organisation's offline recovery key (admins)");

        var output = new Option<FileInfo>("--out") { Description = "where to write the recovery private key (its public key goes next to it, .pub)", Required = true };
        var init = new Command("init", "offline: make the recovery key pair; prints its fingerprint") { output };
        init.SetAction(parse => UserCommands.Run(() =>
        {
            var path = parse.GetValue(output)!.FullName;
            if (File.Exists(path))
            {
                throw new CliError($"{path} exists; refusing to overwrite a recovery key");
            }

            using var key = RSA.Create(4096);
            File.WriteAllText(path, key.ExportPkcs8PrivateKeyPem());
            OwnerOnly(path);
            File.WriteAllText(path + ".pub", key.ExportSubjectPublicKeyInfoPem());
            Console.WriteLine($"recovery key written to {path} (keep it offline) and {path}.pub");
            Console.WriteLine($"fingerprint: {KeySealing.Fingerprint(key.ExportSubjectPublicKeyInfoPem())}");
            return Task.FromResult(0);
        }));

        var publicKey = new Option<FileInfo>("--public-key") { Description = "the .pub file from `recovery init`", Required = true };
        var enable = new Command("enable", "admin: upload the recovery public key; users are told and escrow their keys") { publicKey };
        enable.SetAction(parse => UserCommands.Run(async () =>
        {
            using var api = new OcsApi();
            var policy = await api.RestAsync(HttpMethod.Put, "/v1/keys/recovery", new { publicKey = File.ReadAllText(parse.GetValue(publicKey)!.FullName) });
            Console.WriteLine($"key recovery enabled; fingerprint {policy!["fingerprint"]}");
            return 0;
        }));

        var user = new Option<string>("--user") { Description = "whose key to recover", Required = true };
        var key = new Option<FileInfo>("--key") { Description = "the recovery private key", Required = true };
        var recovered = new Option<FileInfo>("--out") { Description = "where to write the user's private key (PEM)", Required = true };
        var recover = new Command("recover", "admin: open a user's escrow copy with the recovery private key, on this machine") { user, key, recovered };
        recover.SetAction(parse => UserCommands.Run(async () =>
        {
            using var api = new OcsApi();
            var escrow = await api.RestAsync(HttpMethod.Get, $"/v1/keys/escrow/{Uri.EscapeDataString(parse.GetValue(user)!)}");
            using var recoveryKey = RSA.Create();
            recoveryKey.ImportFromPem(File.ReadAllText(parse.GetValue(key)!.FullName));
            using var privateKey = KeySealing.OpenPrivateKey(escrow!["sealedPrivateKey"]!.GetValue<string>(), recoveryKey);
            var path = parse.GetValue(recovered)!.FullName;
            File.WriteAllText(path, privateKey.ExportPkcs8PrivateKeyPem());
            OwnerOnly(path);
            Console.WriteLine($"recovered {parse.GetValue(user)}'s private key into {path}");
            return 0;
        }));

        var accept = new Option<string>("--accept-recovery") { Description = "the recovery key's full fingerprint, as your admins gave it to you", Required = true };
        var consent = new Command("consent", "let your admins recover your key: escrow it to the recovery key with this fingerprint") { accept };
        consent.SetAction(parse => UserCommands.Run(async () =>
        {
            var device = DeviceState.Load();
            using var api = new OcsApi();
            using var privateKey = device.PrivateKey();
            await EscrowIfRecoveryEnabledAsync(api, privateKey, device, parse.GetValue(accept), consentRequired: true);
            return 0;
        }));

        var newKey = new Option<FileInfo>("--public-key") { Description = "the new recovery key's .pub file", Required = true };
        var rotate = new Command("rotate", "admin: ask to replace the recovery key (other admins must approve)") { newKey };
        rotate.SetAction(parse => UserCommands.Run(() => ChangeAsync(new { action = "rotate", publicKey = File.ReadAllText(parse.GetValue(newKey)!.FullName) })));
        var disable = new Command("disable", "admin: ask to turn key recovery off (other admins must approve)");
        disable.SetAction(_ => UserCommands.Run(() => ChangeAsync(new { action = "disable" })));
        var releaseUser = new Option<string>("--user") { Description = "whose escrow copy", Required = true };
        var release = new Command("release", "admin: ask to release a user's escrow copy for recovery (other admins must approve)") { releaseUser };
        release.SetAction(parse => UserCommands.Run(() => ChangeAsync(new { action = "release", userId = parse.GetValue(releaseUser) })));
        var changeId = new Option<string>("--change") { Description = "the change id", Required = true };
        var approve = new Command("approve", "admin: approve another admin's recovery change") { changeId };
        approve.SetAction(parse => UserCommands.Run(async () =>
        {
            using var api = new OcsApi();
            Print(await api.RestAsync(HttpMethod.Post, $"/v1/keys/recovery/changes/{Uri.EscapeDataString(parse.GetValue(changeId)!)}/approve", new { }));
            return 0;
        }));
        var changes = new Command("changes", "admin: recovery changes waiting for approval");
        changes.SetAction(_ => UserCommands.Run(async () =>
        {
            using var api = new OcsApi();
            foreach (var change in (await api.RestAsync(HttpMethod.Get, "/v1/keys/recovery/changes"))?["changes"]?.AsArray() ?? [])
            {
                Print(change);
            }

            return 0;
        }));

        foreach (var command in new[] { init, enable, recover, consent, rotate, disable, release, approve, changes })
        {
            recovery.Subcommands.Add(command);
        }

        return recovery;
    }

    private static async Task<int> ChangeAsync(object wanted)
    {
        using var api = new OcsApi();
        Print(await api.RestAsync(HttpMethod.Post, "/v1/keys/recovery/changes", wanted));
        return 0;
    }

    /// <summary>One line per change: id, action, what, approvals so far of those needed, status.</summary>
    private static void Print(JsonNode? change)
    {
        var approved = change?["approvedBy"]?.AsArray().Select(a => (string?)a) ?? [];
        var subject = (string?)change?["fingerprint"] is { Length: > 0 } fingerprint ? $"key {fingerprint}" : (string?)change?["userId"] is { Length: > 0 } user ? $"user {user}" : "recovery";
        Console.WriteLine($"change {change?["changeId"]}: {change?["action"]} {subject}; approved by {string.Join(", ", approved)} ({approved.Count()} of {change?["approvalsNeeded"]}); {change?["status"]}");
    }

    private static void OwnerOnly(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public static Command Certificates()
    {
        var user = new Option<string>("--user") { Description = "the user whose certificate to re-issue", Required = true };
        var reissue = new Command("reissue", "admin: a new certificate for a user's existing key, signed by the tenant's HSM key") { user };
        reissue.SetAction(parse => UserCommands.Run(async () =>
        {
            using var api = new OcsApi();
            var certificate = await api.RestAsync(HttpMethod.Post, $"/v1/keys/certificates/{Uri.EscapeDataString(parse.GetValue(user)!)}/reissue", new { });
            Console.WriteLine($"re-issued; new fingerprint {DeviceKeys.Fingerprint(certificate!["certificatePem"]!.GetValue<string>())}. Other users' clients will warn that it changed.");
            return 0;
        }));
        var cert = new Command("cert", "certificates (admins)");
        cert.Subcommands.Add(reissue);
        return cert;
    }
}
