using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Keyward.LocalServices;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>A user of the Nextcloud stand-in: the login they type, the id the instance knows them by, an app password.</summary>
public sealed record StandInUser(string Login, string Id, string AppPassword)
{
    public AuthenticationHeaderValue Basic => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Login}:{AppPassword}")));
}

/// <summary>
/// The Nextcloud stand-in (tests/Keyward.NextcloudStandIn) as a process, and a gateway in front of it for
/// <see cref="TestTenants.TenantF"/>: requests for the host <c>localhost</c> come through the front door.
/// </summary>
public sealed class FrontDoorSetup : IAsyncDisposable
{
    public const string Host = "localhost";

    private FrontDoorSetup(ServiceProcess instance, ServiceProcess gateway, IReadOnlyList<StandInUser> users, string keyFile, string dataDirectory)
    {
        DataDirectory = dataDirectory;
        Instance = instance;
        Gateway = gateway;
        Users = users;
        _keyFile = keyFile;
    }

    private readonly string _keyFile;

    public ServiceProcess Instance { get; }

    /// <summary>Where the stand-in keeps the users' files (one folder per user id).</summary>
    public string DataDirectory { get; }

    public ServiceProcess Gateway { get; }

    /// <summary>Three users; the second's login differs from its id, as with LDAP or e-mail logins.</summary>
    public IReadOnlyList<StandInUser> Users { get; }

    /// <summary>The front door's address: the gateway's port under the tenant's host name.</summary>
    public Uri Address => new($"http://{Host}:{Gateway.HttpPort}");

    public HttpClient Client(StandInUser? user = null, string? password = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { ConnectCallback = LoopbackOnly }) { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(5) };
        if (user is not null)
        {
            client.DefaultRequestHeaders.Authorization = password is null ? user.Basic
                : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user.Login}:{password}")));
        }

        client.DefaultRequestHeaders.Add("OCS-APIRequest", "true");
        client.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        return client;
    }

    /// <summary>The desktop client's user agent, one the E2EE client rules allow.</summary>
    public const string DesktopUserAgent = "Mozilla/5.0 (Linux) mirall/3.13.0";

    /// <summary>A client of the user as Nextcloud's desktop client: Basic with the app password and its user agent.</summary>
    public HttpClient DesktopClient(StandInUser user)
    {
        var client = Client(user);
        client.DefaultRequestHeaders.UserAgent.ParseAdd(DesktopUserAgent);
        return client;
    }

    /// <summary>The instance itself, asked directly as the user (not through the front door): what it really holds.</summary>
    public HttpClient InstanceClient(StandInUser user)
    {
        var client = new HttpClient { BaseAddress = Instance.HttpAddress };
        client.DefaultRequestHeaders.Authorization = user.Basic;
        return client;
    }

    /// <summary>Starts the stand-in and a front-door gateway; <paramref name="gatewaySettings"/> change the gateway's.</summary>
    public static async Task<FrontDoorSetup> StartAsync(KeywardSystem system, string name, IEnumerable<KeyValuePair<string, string>>? gatewaySettings = null,
        Uri? instanceAddress = null)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        StandInUser[] users = [new($"nc-{run}-a", $"nc-{run}-a", "app-" + run + "-a"), new($"Login.{run}@example.org", $"nc-{run}-b", "app-" + run + "-b"),
            new($"nc-{run}-c", $"nc-{run}-c", "app-" + run + "-c")];
        var port = KeywardSystem.FreePorts(1)[0];
        var data = Path.Combine(Path.GetTempPath(), $"keyward-standin-{run}");
        var directory = Path.Combine(system.Stack.RepositoryRoot, "tests", "Keyward.NextcloudStandIn", "bin", ServiceProcess.BuildConfiguration, "net10.0");
        var environment = new Dictionary<string, string>
        {
            ["Urls"] = $"http://127.0.0.1:{port}",
            ["StandIn__DataDirectory"] = data,
            ["Logging__LogLevel__Default"] = "Warning",
            // Each stand-in its own file ids: the folders of every test share tenant F in Keyward.
            ["StandIn__FirstFileId"] = Random.Shared.NextInt64(1_000_000, 90_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        for (var i = 0; i < users.Length; i++)
        {
            environment[$"StandIn__Users__{i}__Login"] = users[i].Login;
            environment[$"StandIn__Users__{i}__Id"] = users[i].Id;
            environment[$"StandIn__Users__{i}__AppPasswords__0"] = users[i].AppPassword;
        }

        var logs = Path.Combine(system.Stack.RepositoryRoot, ".stack", "logs", "tests", name);
        var instance = ServiceProcess.Start("nextcloud-standin", directory, Path.Combine(directory, "keyward-nextcloud-standin.dll"), new ServicePorts(port, 0), environment, logs);
        await WaitForAsync(instance, "/status.php");

        var keyFile = Path.Combine(Path.GetTempPath(), $"keyward-delegation-{run}.pem");
        await File.WriteAllTextAsync(keyFile, system.Tenants.DelegationKeyPem);
        var tenant = $"Keyward__Tenants__{TestTenants.TenantF}__Nextcloud__";
        var settings = new Dictionary<string, string>
        {
            [tenant + "BaseUrl"] = (instanceAddress ?? instance.HttpAddress).ToString(),
            [tenant + "Hosts__0"] = Host,
            [tenant + "DelegationKeyFile"] = keyFile,
        };
        foreach (var (key, value) in gatewaySettings ?? [])
        {
            settings[key] = value;
        }

        var gateway = system.StartExtra("gateway", $"{name}-gateway", settings);
        await KeywardSystem.WaitUntilReadyAsync(gateway);
        return new FrontDoorSetup(instance, gateway, users, keyFile, data);
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Instance.DisposeAsync();
        File.Delete(_keyFile);
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    /// <summary>"localhost" may resolve to ::1 first; the gateway listens on 127.0.0.1 only.</summary>
    private static async ValueTask<Stream> LoopbackOnly(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
        return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
    }

    private static async Task WaitForAsync(ServiceProcess process, string path)
    {
        using var http = new HttpClient { BaseAddress = process.HttpAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if ((await http.GetAsync(path)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"the Nextcloud stand-in did not start:\n{process.LogTail()}");
            }

            await Task.Delay(200);
        }
    }
}
