using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Keyward.Client;

namespace Keyward.Cli;

/// <summary>Device-assisted enrollment, the recovery key and certificate re-issue.</summary>
public static class KeyAdministration
{
    /// <summary>After keys reach a device: if the tenant has recovery on, say so and upload an escrow copy.</summary>
    public static async Task EscrowIfRecoveryEnabledAsync(OcsApi api, RSA privateKey)
    {
        var policy = await api.RestAsync(HttpMethod.Get, "/v1/keys/recovery");
        if (policy?["enabled"]?.GetValue<bool>() != true)
        {
            return;
        }

        var fingerprint = policy["fingerprint"]!.GetValue<string>();
        Console.Error.WriteLine($"WARNING: key recovery is enabled for your organisation. An escrow copy of your private key, encrypted to the admins' offline recovery key (fingerprint {fingerprint[..16]}…), is stored so that they can recover it.");
        await api.RestAsync(HttpMethod.Put, "/v1/keys/escrow", new { sealedPrivateKey = KeySealing.SealPrivateKey(privateKey, policy["publicKey"]!.GetValue<string>()) });
    }

    public static IEnumerable<Command> DeviceCommands() => [Request(), Approve()];

    private static Command Request()
    {
        var timeout = new Option<int>("--timeout") { Description = "seconds to wait for approval", DefaultValueFactory = _ => 600 };
        var command = new Command("request", "on a new device: ask an existing device of yours to hand over your key (no mnemonic needed)") { timeout };
        command.SetAction(parse => UserCommands.Run(async () =>
        {
            using var api = new OcsApi();
            using var ephemeral = RSA.Create(3072);
            var request = await api.RestAsync(HttpMethod.Post, "/v1/keys/devices", new { ephemeralPublicKey = ephemeral.ExportSubjectPublicKeyInfoPem() });
            var id = request!["requestId"]!.GetValue<string>();
            Console.WriteLine($"On a device that already has your keys run:  keyward device approve --code {request["code"]}");
            Console.Error.Write("waiting for approval");
            var deadline = DateTime.UtcNow.AddSeconds(parse.GetValue(timeout));
            while (true)
            {
                var state = await api.RestAsync(HttpMethod.Get, $"/v1/keys/devices/{id}");
                if (state?["sealedPrivateKey"]?.GetValue<string>() is { Length: > 0 } sealedKey)
                {
                    Console.Error.WriteLine();
                    using var key = KeySealing.OpenPrivateKey(sealedKey, ephemeral);
                    await UserCommands.AdoptKeyAsync(api, key);
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
        var code = new Option<string?>("--code") { Description = "the code the new device shows" };
        var command = new Command("approve", "on a device with your keys: hand your private key, sealed, to a new device that asked") { code };
        command.SetAction(parse => UserCommands.Run(async () =>
        {
            var device = DeviceState.Load();
            using var api = new OcsApi();
            var pending = (await api.RestAsync(HttpMethod.Get, "/v1/keys/devices"))?["requests"]?.AsArray() ?? [];
            var wanted = parse.GetValue(code);
            var matching = pending.Where(r => wanted is null || (string?)r!["code"] == wanted).ToList();
            if (matching.Count != 1)
            {
                throw new CliError(matching.Count == 0 ? "no pending device request (they expire after 10 minutes)" : "several device requests are pending: give the --code the new device shows");
            }

            var request = matching[0]!;
            using var privateKey = device.PrivateKey();
            var sealedKey = KeySealing.SealPrivateKey(privateKey, request["ephemeralPublicKey"]!.GetValue<string>());
            await api.RestAsync(HttpMethod.Post, $"/v1/keys/devices/{request["requestId"]}/approve", new { sealedPrivateKey = sealedKey });
            Console.WriteLine($"approved the device request {request["code"]}");
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

        recovery.Subcommands.Add(init);
        recovery.Subcommands.Add(enable);
        recovery.Subcommands.Add(recover);
        return recovery;
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
