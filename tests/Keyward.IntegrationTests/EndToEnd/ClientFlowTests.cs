using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keyward.Client;
using Keyward.IntegrationTests.Infrastructure;
using Npgsql;
using RabbitMQ.Client;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>
/// The whole E2EE flow with the keyward CLI over all five services on the real stack, then the central
/// promise checked: no mnemonic, private key, metadata key, file key, file name or file content is stored
/// or sent anywhere in plaintext.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ClientFlowTests(KeywardSystem system)
{
    [Fact]
    public async Task Alice_shares_with_bob_unshares_and_adds_a_device_and_nothing_secret_reaches_the_server()
    {
        using var capture = await AuditCapture.StartAsync(system.Stack.RabbitMq);
        var run = Guid.NewGuid().ToString("N")[..8];
        var alice = new Cli(system, $"alice-{run}", run);
        var bob = new Cli(system, $"bob-{run}", run);
        var aliceLaptop = new Cli(system, alice.User, run, device: "laptop");
        var aliceTablet = new Cli(system, alice.User, run, device: "tablet");
        var admin = new Cli(system, $"admin-{run}", run, roles: "user,admin");
        var secrets = new List<string>();

        // The admins make the recovery key offline and turn recovery on: users are told and escrow their keys.
        var recoveryKey = Path.Combine(Path.GetTempPath(), $"keyward-recovery-{run}.key");
        Assert.Contains("fingerprint:", await admin.OkAsync("recovery", "init", "--out", recoveryKey));
        await admin.OkAsync("recovery", "enable", "--public-key", recoveryKey + ".pub");
        secrets.Add(string.Concat(File.ReadAllText(recoveryKey).Split('\n').Skip(1).Take(2)));

        var init = await alice.OkAsync("init");
        var mnemonic = init.Split('\n').Select(l => l.Trim()).Single(l => l.Split(' ').Length == 12 && Mnemonics.IsValid(l));
        Assert.Contains("WARNING: key recovery is enabled", init);
        secrets.AddRange([mnemonic, Mnemonics.Password(mnemonic)]);
        await bob.OkAsync("init");

        await alice.OkAsync("folder", "create", "holiday");
        var fileContent = $"the beach house code is 4711-{run}";
        var fileName = $"secret-plan-{run}.txt";
        await alice.OkAsync("put", "holiday", alice.WriteFile(fileName, fileContent));
        await alice.OkAsync("put", "holiday", alice.WriteFile($"second-{run}.txt", $"more private words {run}"));
        Assert.Contains(fileName, await alice.OkAsync("ls", "holiday"));
        secrets.AddRange([fileContent, fileName, $"more private words {run}"]);

        await alice.OkAsync("share", "holiday", bob.User);
        var folderId = alice.FolderId("holiday");
        Assert.Equal(fileContent, await bob.OkAsync("get", folderId, fileName));

        await alice.OkAsync("unshare", "holiday", bob.User);
        var laterName = $"after-unshare-{run}.txt";
        await alice.OkAsync("put", "holiday", alice.WriteFile(laterName, $"bob must not read this {run}"));
        secrets.AddRange([laterName, $"bob must not read this {run}"]);
        var refused = await bob.RunAsync("get", folderId, laterName);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("403 You are not allowed to access the metadata of this folder", refused.Output);
        // And were the server to hand it over, bob's key would not open the new metadata: it was rotated without him.
        var current = (await new E2eeFolders(OcsClient.For(system, alice.User, TestTenants.TenantA)).GetAsync(folderId)).Data.GetProperty("meta-data").GetString()!;
        using (var bobKey = RSA.Create())
        {
            bobKey.ImportFromPem(bob.Device()["PrivateKeyPem"]!.GetValue<string>());
            Assert.ThrowsAny<CryptographicException>(() => MetadataV2.UnwrapKey(current, bob.User, bobKey));
        }

        // A second device from the mnemonic alone, and it reads everything.
        await aliceLaptop.OkAsync("device", "add", "--mnemonic", mnemonic);
        Assert.Equal($"bob must not read this {run}", await aliceLaptop.OkAsync("get", folderId, laterName));
        Assert.Equal(1, (await aliceLaptop.RunAsync("device", "add", "--mnemonic", "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")).ExitCode);

        // A third device without the mnemonic: it asks, the phone approves, the key travels sealed to the tablet's ephemeral key.
        var (requesting, code) = await aliceTablet.StartDeviceRequestAsync();
        await alice.OkAsync("device", "approve", "--code", code);
        await requesting.WaitForExitAsync();
        Assert.Equal(0, requesting.ExitCode);
        Assert.Equal(fileContent, await aliceTablet.OkAsync("get", folderId, fileName));

        // The admin recovers alice's private key offline from her escrow copy.
        var recovered = Path.Combine(Path.GetTempPath(), $"keyward-recovered-{run}.pem");
        await admin.OkAsync("recovery", "recover", "--user", alice.User, "--key", recoveryKey, "--out", recovered);
        Assert.Equal(alice.Device()["PrivateKeyPem"]!.GetValue<string>().Trim(), File.ReadAllText(recovered).Trim());
        File.Delete(recovered);
        Assert.NotEqual(0, (await bob.RunAsync("recovery", "recover", "--user", alice.User, "--key", recoveryKey, "--out", recovered)).ExitCode);

        // A re-issued certificate: alice's client pinned bob's first one and warns before trusting the new one.
        await admin.OkAsync("cert", "reissue", "--user", bob.User);
        var warned = await alice.RunAsync("share", "holiday", bob.User);
        Assert.Equal(1, warned.ExitCode);
        Assert.Contains("certificate changed", warned.Output);
        await alice.OkAsync("share", "holiday", bob.User, "--accept-new-certificate");
        Assert.Equal(fileContent, await bob.OkAsync("get", folderId, fileName));
        File.Delete(recoveryKey);

        // Every key that existed: both private keys, every metadata key version, every file key.
        foreach (var cli in new[] { alice, bob })
        {
            var privateKey = cli.Device()["PrivateKeyPem"]!.GetValue<string>();
            secrets.Add(string.Concat(privateKey.Split('\n').Skip(1).Take(3)));
            secrets.Add(Convert.ToBase64String(Encoding.ASCII.GetBytes(privateKey))[..60]);
        }

        using var aliceKey = RSA.Create();
        aliceKey.ImportFromPem(alice.Device()["PrivateKeyPem"]!.GetValue<string>());
        using var rest = system.Http(system.Gateway, system.Tenants.Token(alice.User, tenant: TestTenants.TenantA));
        var versions = JsonNode.Parse(await rest.GetStringAsync($"/v1/folders/{folderId}/versions"))!["versions"]!.AsArray();
        Assert.True(versions.Count >= 5);
        foreach (var version in versions)
        {
            var metadata = JsonNode.Parse(await rest.GetStringAsync($"/v1/folders/{folderId}/versions/{version!["number"]}"))!["metadata"]!.GetValue<string>();
            var metadataKey = MetadataV2.UnwrapKey(metadata, alice.User, aliceKey);
            secrets.AddRange([Convert.ToBase64String(metadataKey), Convert.ToHexString(metadataKey), Convert.ToHexStringLower(metadataKey)]);
            secrets.AddRange(MetadataV2.Open(metadata, metadataKey).Files.Values.Select(f => f.Key));
        }

        await Task.Delay(1500); // the relay and the audit consumer catch up
        var stored = await EverythingStoredAsync();
        var sent = capture.Messages();
        Assert.NotEmpty(sent);
        Assert.Contains(alice.User, stored);
        foreach (var secret in secrets.Distinct())
        {
            Assert.False(stored.Contains(secret, StringComparison.Ordinal), $"a secret ({secret[..Math.Min(12, secret.Length)]}…) is stored in the database");
            Assert.False(sent.Contains(secret, StringComparison.Ordinal), $"a secret ({secret[..Math.Min(12, secret.Length)]}…) was sent through RabbitMQ");
        }
    }

    /// <summary>Every row of every table of every service, as text (bytea decoded where it holds text).</summary>
    private async Task<string> EverythingStoredAsync()
    {
        await using var data = NpgsqlDataSource.Create(system.Stack.Postgres);
        var tables = new List<(string Schema, string Table)>();
        await using (var list = data.CreateCommand("select table_schema, table_name from information_schema.tables where table_schema in ('keyserver','metadata','certificate_authority','gateway','audit') and table_type = 'BASE TABLE'"))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        Assert.Contains(tables, t => t.Table == "chain_entries");
        Assert.Contains(tables, t => t.Table.StartsWith("mt_doc_storedprivatekey", StringComparison.Ordinal));
        var text = new StringBuilder();
        foreach (var (schema, table) in tables)
        {
            var select = table == "chain_entries" ? "select t::text || convert_from(t.canonical, 'UTF8') from audit.chain_entries t" : $"select t::text from \"{schema}\".\"{table}\" t";
            await using var command = data.CreateCommand(select);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                text.AppendLine(reader.IsDBNull(0) ? "" : reader.GetString(0));
            }
        }

        return text.ToString();
    }

    /// <summary>Copies every audit event published to RabbitMQ during the test into a queue of its own.</summary>
    private sealed class AuditCapture : IDisposable
    {
        private readonly IConnection _connection;
        private readonly IChannel _channel;
        private readonly string _queue;

        private AuditCapture(IConnection connection, IChannel channel, string queue)
        {
            _connection = connection;
            _channel = channel;
            _queue = queue;
        }

        public static async Task<AuditCapture> StartAsync(string amqp)
        {
            var connection = await new ConnectionFactory { Uri = new Uri(amqp) }.CreateConnectionAsync();
            var channel = await connection.CreateChannelAsync();
            const string exchange = "Keyward.AuditTrail:AuditEvent";
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true);
            var queue = (await channel.QueueDeclareAsync($"keyward-test-capture-{Guid.NewGuid():N}", durable: false, exclusive: true, autoDelete: true)).QueueName;
            await channel.QueueBindAsync(queue, exchange, "");
            return new AuditCapture(connection, channel, queue);
        }

        public string Messages()
        {
            var text = new StringBuilder();
            while (_channel.BasicGetAsync(_queue, autoAck: true).GetAwaiter().GetResult() is { } message)
            {
                text.AppendLine(Encoding.UTF8.GetString(message.Body.Span));
            }

            return text.ToString();
        }

        public void Dispose()
        {
            _channel.Dispose();
            _connection.Dispose();
        }
    }

    /// <summary>The keyward CLI from its build output, as one user on one device.</summary>
    private sealed class Cli
    {
        private readonly KeywardSystem _system;
        private readonly string _home;
        private readonly string _store;

        private readonly string _roles;

        public Cli(KeywardSystem system, string user, string run, string device = "phone", string roles = "user")
        {
            _system = system;
            User = user;
            _roles = roles;
            var root = Path.Combine(Path.GetTempPath(), $"keyward-cli-{run}");
            _home = Path.Combine(root, user, device);
            _store = Path.Combine(root, "store");
        }

        public string User { get; }

        public JsonObject Device() => JsonNode.Parse(File.ReadAllText(Path.Combine(_home, "device.json")))!.AsObject();

        public string FolderId(string name) => Device()["Folders"]![name]!.GetValue<string>();

        public string WriteFile(string name, string content)
        {
            Directory.CreateDirectory(Path.Combine(_home, "files"));
            var path = Path.Combine(_home, "files", name);
            File.WriteAllText(path, content);
            return path;
        }

        public async Task<string> OkAsync(params string[] arguments)
        {
            var (exitCode, output) = await RunAsync(arguments);
            Assert.True(exitCode == 0, $"keyward {string.Join(' ', arguments)} failed: {output}");
            return output;
        }

        /// <summary>Starts `device request` and returns once it shows the code to approve.</summary>
        public async Task<(Process Process, string Code)> StartDeviceRequestAsync()
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            var cli = Path.Combine(_system.Stack.RepositoryRoot, "clients", "Keyward.Cli", "bin", configuration, "net10.0", "keyward.dll");
            var start = new ProcessStartInfo("dotnet", [cli, "device", "request", "--timeout", "60"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["KEYWARD_HOME"] = _home;
            start.Environment["KEYWARD_STORE"] = _store;
            start.Environment["KEYWARD_GATEWAY_URL"] = _system.Gateway.HttpAddress.ToString();
            start.Environment["KEYWARD_TOKEN"] = _system.Tenants.Token(User, _roles, TestTenants.TenantA);
            var process = Process.Start(start)!;
            _ = process.StandardError.ReadToEndAsync();
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                var marker = line.IndexOf("--code ", StringComparison.Ordinal);
                if (marker >= 0)
                {
                    _ = process.StandardOutput.ReadToEndAsync();
                    return (process, line[(marker + 7)..].Trim());
                }
            }

            throw new InvalidOperationException("keyward device request showed no code");
        }

        public async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            var cli = Path.Combine(_system.Stack.RepositoryRoot, "clients", "Keyward.Cli", "bin", configuration, "net10.0", "keyward.dll");
            var start = new ProcessStartInfo("dotnet", [cli, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["KEYWARD_HOME"] = _home;
            start.Environment["KEYWARD_STORE"] = _store;
            start.Environment["KEYWARD_GATEWAY_URL"] = _system.Gateway.HttpAddress.ToString();
            start.Environment["KEYWARD_TOKEN"] = _system.Tenants.Token(User, _roles, TestTenants.TenantA);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, (await output) + (await error));
        }
    }
}
