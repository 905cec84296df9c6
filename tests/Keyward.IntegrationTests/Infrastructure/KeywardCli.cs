using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>
/// The keyward CLI from its build output, as one user on one device: signed in with a Keyward tenant token (file bodies
/// in a local store), or through a Nextcloud front door with the user's app password (file bodies on the instance).
/// </summary>
public sealed class KeywardCli
{
    private readonly string _assembly;
    private readonly string _home;
    private readonly Dictionary<string, string> _environment;

    /// <summary>With a tenant token for <paramref name="user"/>, straight at the system's gateway.</summary>
    public KeywardCli(KeywardSystem system, string user, string run, string device = "phone", string roles = "user", string tenant = TestTenants.TenantA)
        : this(system, user, run, device, new Dictionary<string, string>
        {
            ["KEYWARD_GATEWAY_URL"] = system.Gateway.HttpAddress.ToString(),
            ["KEYWARD_TOKEN"] = system.Tenants.Token(user, roles, tenant),
        })
    {
    }

    private KeywardCli(KeywardSystem system, string user, string run, string device, Dictionary<string, string> environment)
    {
        _assembly = Path.Combine(system.Stack.RepositoryRoot, "clients", "Keyward.Cli", "bin", ServiceProcess.BuildConfiguration, "net10.0", "keyward.dll");
        User = user;
        var root = Path.Combine(Path.GetTempPath(), $"keyward-cli-{run}");
        _home = Path.Combine(root, user, device);
        _environment = new Dictionary<string, string>(environment)
        {
            ["KEYWARD_HOME"] = _home,
            ["KEYWARD_STORE"] = Path.Combine(root, "store"),
        };
    }

    /// <summary>As a Nextcloud user through the front door: Basic with their login and app password, nothing else.</summary>
    public static KeywardCli ThroughFrontDoor(KeywardSystem system, FrontDoorSetup door, StandInUser user, string run, string device = "phone") =>
        new(system, user.Id, run, device, new Dictionary<string, string>
        {
            ["KEYWARD_NEXTCLOUD_URL"] = door.Address.ToString(),
            ["KEYWARD_NEXTCLOUD_USER"] = user.Login,
            ["KEYWARD_NEXTCLOUD_APP_PASSWORD"] = user.AppPassword,
        });

    /// <summary>The user id the CLI acts as.</summary>
    public string User { get; }

    /// <summary>The fingerprint `recovery init` printed.</summary>
    public static string Fingerprint(string output) => output.Split('\n').Single(l => l.StartsWith("fingerprint: ", StringComparison.Ordinal))["fingerprint: ".Length..].Trim();

    /// <summary>The id of the recovery change a command printed ("change &lt;id&gt;: …").</summary>
    public static string ChangeId(string output) => output.Split('\n').First(l => l.StartsWith("change ", StringComparison.Ordinal))["change ".Length..].Split(':')[0];

    /// <summary>The 12 words `init` printed.</summary>
    public static string Mnemonic(string output) =>
        output.Split('\n').Select(l => l.Trim()).Single(l => l.Split(' ').Length == 12 && Keyward.Client.Mnemonics.IsValid(l));

    public JsonObject Device() => JsonNode.Parse(File.ReadAllText(Path.Combine(_home, "device.json")))!.AsObject();

    /// <summary>Makes this machine the given witness (the deployment is configured with its key).</summary>
    public void WriteWitness(string name, byte[] seed)
    {
        Directory.CreateDirectory(_home);
        File.WriteAllText(Path.Combine(_home, "witness.json"), JsonSerializer.Serialize(new { Name = name, Seed = Convert.ToBase64String(seed), Logs = new Dictionary<string, object>() }));
    }

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
        var process = Process.Start(Start(["device", "request", "--timeout", "60"]))!;
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
        using var process = Process.Start(Start(arguments))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await output) + (await error));
    }

    private ProcessStartInfo Start(string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [_assembly, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in _environment)
        {
            start.Environment[name] = value;
        }

        return start;
    }
}
