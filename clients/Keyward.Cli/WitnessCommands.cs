using System.CommandLine;
using System.Text.Json;
using Keyward.AuditTrail;
using Keyward.Transparency;

namespace Keyward.Cli;

/// <summary>
/// <c>keyward witness</c>: an independent party that keeps the newest checkpoint it saw of each log, accepts a new
/// one only with a consistency proof from it, and cosigns it (C2SP tlog-cosignature, Ed25519). Clients that
/// require N witnesses' cosignatures then cannot be shown a fork unless N witnesses were shown the same fork.
/// The witness's key and memory live in KEYWARD_HOME/witness.json, never on the server.
/// </summary>
public static class WitnessCommands
{
    public sealed class WitnessState
    {
        public string Name { get; set; } = "";

        public string Seed { get; set; } = "";

        /// <summary>Origin → what the witness trusts of that log.</summary>
        public Dictionary<string, LogMemory> Logs { get; set; } = [];
    }

    public sealed class LogMemory
    {
        public string LogKeyPem { get; set; } = "";

        public long Size { get; set; }

        public string Root { get; set; } = "";
    }

    private static string StatePath => Path.Combine(DeviceState.Home, "witness.json");

    public static Command Create()
    {
        var witness = new Command("witness", "run a witness: verify that a tenant's logs only grow, and cosign their checkpoints");
        var name = new Option<string>("--name") { Description = "the witness's name, a schema-less URL such as witness.example.org/w1", Required = true };
        var init = new Command("init", "make the witness key; prints the verifier key to configure as Keyward:Transparency:Witnesses") { name };
        init.SetAction(parse =>
        {
            if (File.Exists(StatePath))
            {
                Console.Error.WriteLine($"keyward: {StatePath} exists; this machine is already a witness");
                return 1;
            }

            var witnessName = parse.GetValue(name)!;
            if (!TreeHead.IsOrigin(witnessName))
            {
                Console.Error.WriteLine("keyward: a witness name has no spaces and no '+'");
                return 2;
            }

            var seed = Cosigner.NewSeed();
            Save(new WitnessState { Name = witnessName, Seed = Convert.ToBase64String(seed) });
            Console.WriteLine(new Cosigner(witnessName, seed).Verifier.VerifierKey);
            return 0;
        });

        var log = new Option<string>("--log") { Description = "audit or keys", DefaultValueFactory = _ => "keys" };
        var every = new Option<int>("--every") { Description = "keep running, cosigning every N seconds (0: once)" };
        var cosign = new Command("cosign", "fetch the log's newest checkpoint, check it extends the last one this witness cosigned, cosign it") { log, every };
        cosign.SetAction(parse => UserCommands.Run(async () =>
        {
            var which = parse.GetValue(log) switch { "audit" => "/v1/audit", "keys" => "/v1/keys/transparency", var other => throw new CliError($"--log is audit or keys, not {other}") };
            using var api = new OcsApi();
            while (true)
            {
                Console.WriteLine(await CosignOnceAsync(api, which));
                if (parse.GetValue(every) <= 0)
                {
                    return 0;
                }

                await Task.Delay(TimeSpan.FromSeconds(parse.GetValue(every)));
            }
        }));
        witness.Subcommands.Add(init);
        witness.Subcommands.Add(cosign);
        return witness;
    }

    private static async Task<string> CosignOnceAsync(OcsApi api, string prefix)
    {
        var state = File.Exists(StatePath) ? JsonSerializer.Deserialize<WitnessState>(File.ReadAllText(StatePath))! : throw new CliError("run `keyward witness init --name …` first");
        var note = await api.TextAsync(HttpMethod.Get, $"{prefix}/checkpoint");
        var origin = note.Split('\n', 2)[0];
        if (!state.Logs.TryGetValue(origin, out var memory))
        {
            var keyPem = (await api.RestAsync(HttpMethod.Get, "/v1/ca/checkpoint-key"))!["publicKeyPem"]!.GetValue<string>();
            var fingerprint = EcdsaNoteVerifier.FromPem(origin, keyPem).Fingerprint;
            if (Environment.GetEnvironmentVariable("KEYWARD_LOG_KEY_FINGERPRINT") is { Length: > 0 } expected && !string.Equals(expected.Trim(), fingerprint, StringComparison.OrdinalIgnoreCase))
            {
                throw new CliError($"the log key {fingerprint} is not the one in KEYWARD_LOG_KEY_FINGERPRINT");
            }

            memory = new LogMemory { LogKeyPem = keyPem, Size = 0, Root = Convert.ToBase64String(MerkleHash.EmptyRoot) };
        }

        var checkpoint = new CheckpointPolicy(origin, EcdsaNoteVerifier.FromPem(origin, memory.LogKeyPem)).Verify(note);
        if (!checkpoint.IsValid)
        {
            throw new CliError($"not cosigning {origin}: {checkpoint.Problem}");
        }

        var head = checkpoint.Head!;
        var seen = new TrustedHead(memory.Size, Convert.FromBase64String(memory.Root));
        IReadOnlyList<byte[]> proof = [];
        if (memory.Size > 0 && memory.Size < head.Size)
        {
            var answer = await api.RestAsync(HttpMethod.Get, $"{prefix}/proof?from={memory.Size}&to={head.Size}");
            proof = answer!["hashes"]!.AsArray().Select(h => Convert.FromBase64String(h!.GetValue<string>())).ToArray();
        }

        if (head.Size < memory.Size)
        {
            throw new CliError($"not cosigning {origin}: it shows size {head.Size}, this witness already cosigned {memory.Size}");
        }

        if (seen.Advance(head, proof) is null)
        {
            throw new CliError($"NOT cosigning {origin}: size {head.Size} is not consistent with size {memory.Size} this witness cosigned — the log forked or was rewritten");
        }

        var cosigner = new Cosigner(state.Name, Convert.FromBase64String(state.Seed));
        var line = cosigner.Cosign(checkpoint.Note!.Body, DateTimeOffset.UtcNow).ToLine();
        await api.TextAsync(HttpMethod.Post, $"{prefix}/cosignatures?size={head.Size}", line);
        memory.Size = head.Size;
        memory.Root = Convert.ToBase64String(head.RootHash);
        state.Logs[origin] = memory;
        Save(state);
        return $"cosigned {origin} at size {head.Size}";
    }

    private static void Save(WitnessState state)
    {
        Directory.CreateDirectory(DeviceState.Home);
        File.WriteAllText(StatePath, JsonSerializer.Serialize(state, new JsonSerializerOptions { WriteIndented = true }));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(StatePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
