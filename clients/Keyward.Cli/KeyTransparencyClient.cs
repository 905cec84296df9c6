using System.CommandLine;
using System.Text.Json.Nodes;
using Keyward.AuditTrail;
using Keyward.Client;
using Keyward.Transparency;

namespace Keyward.Cli;

/// <summary>
/// The device's side of key transparency: no certificate is used (the user's own, or a colleague's when sharing)
/// unless the tenant's key-transparency log, signed by the pinned log key and consistent with everything this
/// device saw before, lists exactly that certificate as the user's current one. And `keyward monitor`.
/// </summary>
public static class KeyTransparencyClient
{
    private const string Base = "/v1/keys/transparency";

    /// <summary>Refuses <paramref name="certificatePem"/> unless the log vouches for it; waits a little for an entry still being logged.</summary>
    public static async Task VerifyCertificateAsync(OcsApi api, DeviceState device, string userId, string certificatePem, TimeSpan? wait = null)
    {
        var fingerprint = DeviceKeys.Fingerprint(certificatePem);
        var deadline = DateTime.UtcNow + (wait ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var verdict = await CheckAsync(api, device, userId, fingerprint);
            if (verdict.Trusted)
            {
                return;
            }

            // A certificate issued a moment ago reaches the log within seconds; a bad signature, a fork or a bad proof is refused at once.
            if (!verdict.MayBePending || DateTime.UtcNow > deadline)
            {
                throw new CliError($"refusing {userId}'s certificate: {verdict.Problem}");
            }

            Console.Error.WriteLine($"waiting for {userId}'s certificate to appear in the key-transparency log…");
            await Task.Delay(500);
        }
    }

    /// <summary>Verifies the user's entries and advances the device's trusted head (saved with the device).</summary>
    public static async Task<IdentityVerdict> CheckAsync(OcsApi api, DeviceState device, string userId, string fingerprint)
    {
        var answer = await api.RestAsync(HttpMethod.Get, $"{Base}/entries?user={Uri.EscapeDataString(userId)}")
            ?? throw new CliError("the key-transparency log gave no answer");
        var checkpoint = answer["checkpoint"]!.GetValue<string>();
        var policy = await PolicyAsync(api, device, checkpoint);
        var proofs = new IdentityProofs(userId, answer["treeSize"]!.GetValue<long>(), checkpoint,
            answer["entries"]!.AsArray().Select(e => new IdentityProofs.Entry(e!["index"]!.GetValue<long>(), e["entry"]!.GetValue<string>(), Hashes(e["hashes"]))).ToList());
        var seen = device.KeysLogRoot is null ? TrustedHead.Empty : new TrustedHead(device.KeysLogSize, Convert.FromBase64String(device.KeysLogRoot));
        var consistency = await ConsistencyAsync(api, seen.Size, proofs.TreeSize);
        var verdict = IdentityCheck.Verify(policy, seen, consistency, proofs, fingerprint);
        if (verdict.Head is { } head && head.Size >= seen.Size)
        {
            device.KeysLogSize = head.Size;
            device.KeysLogRoot = Convert.ToBase64String(head.RootHash);
            device.Save();
        }

        return verdict;
    }

    public static Command Monitor()
    {
        var command = new Command("monitor",
            "list what happened to your identity since the last run (certificates, private key, devices, escrow releases, the tenant's recovery key) and flag what your devices did not do; exit 1 when something is flagged");
        command.SetAction(_ => UserCommands.Run(async () =>
        {
            var device = DeviceState.Load();
            using var api = new OcsApi();
            var own = await CheckAsync(api, device, device.UserId, DeviceKeys.Fingerprint(device.CertificatePem));
            if (own.Head is null)
            {
                throw new CliError($"the key-transparency log cannot be trusted: {own.Problem}");
            }

            var tenant = await CheckAsync(api, device, "", "");
            var flagged = 0;
            var listed = 0;
            var fresh = own.Entries.Where((_, i) => own.Indexes[i] > device.MonitoredUpTo)
                .Concat(tenant.Entries.Where((_, i) => tenant.Indexes[i] > device.MonitoredTenantUpTo));
            foreach (var entry in fresh.OrderBy(e => e.OccurredAt))
            {
                var mine = entry.Action switch
                {
                    "keys.escrow.fetched" => false,
                    "keys.escrow.stored" => entry.Actor == device.UserId,
                    "keys.certificate.deleted" or "keys.private_key.deleted" => entry.Actor == device.UserId,
                    "keys.recovery.enabled" or "keys.recovery.rotated" or "keys.recovery.disabled" => string.Equals(entry.Subject, device.RecoveryFingerprint, StringComparison.OrdinalIgnoreCase),
                    _ => device.OwnSubjects.Contains(entry.Subject),
                };
                flagged += mine ? 0 : 1;
                listed++;
                Console.WriteLine($"{(mine ? "        " : "FLAGGED ")}{entry.OccurredAt:O}\t{entry.Action}\tby {entry.Actor}{(entry.User.Length == 0 ? " (tenant-wide)" : "")}\t{entry.Subject}");
            }

            device = DeviceState.Load();
            device.MonitoredUpTo = Math.Max(device.MonitoredUpTo, own.LastIndex);
            device.MonitoredTenantUpTo = Math.Max(device.MonitoredTenantUpTo, tenant.LastIndex);
            device.Save();
            Console.Error.WriteLine(listed == 0 ? "nothing new since the last run" : flagged == 0 ? $"{listed} new event(s), all made by your devices" : $"{flagged} of {listed} new event(s) were NOT made by your devices");
            if (!own.Trusted)
            {
                Console.Error.WriteLine($"WARNING: {own.Problem}");
                return 1;
            }

            return flagged == 0 ? 0 : 1;
        }));
        return command;
    }

    private static async Task<CheckpointPolicy> PolicyAsync(OcsApi api, DeviceState device, string checkpoint)
    {
        var origin = checkpoint.Split('\n', 2)[0];
        if (device.KeysLogOrigin is { } pinnedOrigin && pinnedOrigin != origin)
        {
            throw new CliError($"the key-transparency log calls itself '{origin}', this device knows it as '{pinnedOrigin}'");
        }

        var keyPem = device.LogKeyPem ?? (await api.RestAsync(HttpMethod.Get, "/v1/ca/checkpoint-key"))!["publicKeyPem"]!.GetValue<string>();
        var key = EcdsaNoteVerifier.FromPem(origin, keyPem);
        if (Environment.GetEnvironmentVariable("KEYWARD_LOG_KEY_FINGERPRINT") is { Length: > 0 } expected
            && !string.Equals(expected.Trim(), key.Fingerprint, StringComparison.OrdinalIgnoreCase))
        {
            throw new CliError($"the tenant's log key {key.Fingerprint} is not the one in KEYWARD_LOG_KEY_FINGERPRINT ({expected})");
        }

        if (device.LogKeyPem is null || device.KeysLogOrigin is null)
        {
            device.LogKeyPem = keyPem;
            device.KeysLogOrigin = origin;
            device.Save();
        }

        return new CheckpointPolicy(origin, key);
    }

    private static async Task<IReadOnlyList<byte[]>> ConsistencyAsync(OcsApi api, long seen, long size)
    {
        if (seen == 0 || seen == size)
        {
            return [];
        }

        var (from, to) = seen < size ? (seen, size) : (size, seen);
        var answer = await api.RestAsync(HttpMethod.Get, $"{Base}/proof?from={from}&to={to}");
        return Hashes(answer!["hashes"]);
    }

    private static byte[][] Hashes(JsonNode? hashes) => hashes?.AsArray().Select(h => Convert.FromBase64String(h!.GetValue<string>())).ToArray() ?? [];
}
