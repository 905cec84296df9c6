using System.Security.Cryptography;
using System.Text.Json;

namespace Keyward.Cli;

/// <summary>
/// What this device keeps between commands, in KEYWARD_HOME (default ~/.keyward), readable by its owner
/// only: the user's key pair, the server key, the certificates pinned on first use, and per folder the last
/// counter and key checksums seen (a server rolling metadata back is then noticed).
/// </summary>
public sealed class DeviceState
{
    public string UserId { get; set; } = "";

    public string PrivateKeyPem { get; set; } = "";

    public string CertificatePem { get; set; } = "";

    public string ServerKeyPem { get; set; } = "";

    /// <summary>User id → SHA-256 fingerprint of the certificate first seen for them.</summary>
    public Dictionary<string, string> PinnedCertificates { get; set; } = new();

    /// <summary>
    /// The full fingerprint of the recovery key the user consented to: escrow goes only to that key; a different one
    /// later is refused and shown, until the user consents to it (<c>keyward recovery consent</c>).
    /// </summary>
    public string? RecoveryFingerprint { get; set; }

    /// <summary>The tenant's log key (SubjectPublicKeyInfo PEM), pinned on first use or by KEYWARD_LOG_KEY_FINGERPRINT.</summary>
    public string? LogKeyPem { get; set; }

    /// <summary>The key-transparency log's origin line, pinned on first use.</summary>
    public string? KeysLogOrigin { get; set; }

    /// <summary>The newest key-transparency checkpoint this device verified: every later one must extend it.</summary>
    public long KeysLogSize { get; set; }

    public string? KeysLogRoot { get; set; }

    /// <summary>The last key-transparency entry `keyward monitor` listed, for the user and for the tenant (recovery).</summary>
    public long MonitoredUpTo { get; set; } = -1;

    public long MonitoredTenantUpTo { get; set; } = -1;

    /// <summary>What this user's devices did, as the log names it: certificate fingerprints, private-key blob hashes, device request ids.</summary>
    public HashSet<string> OwnSubjects { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Local folder name → server folder id.</summary>
    public Dictionary<string, string> Folders { get; set; } = new();

    public Dictionary<string, long> LastCounters { get; set; } = new();

    public Dictionary<string, List<string>> LastChecksums { get; set; } = new();

    /// <summary>A device that holds <paramref name="userId"/>'s key, pinning the user's own certificate.</summary>
    public static DeviceState For(string userId, RSA privateKey, string certificatePem, string serverKeyPem) => new()
    {
        UserId = userId,
        PrivateKeyPem = privateKey.ExportPkcs8PrivateKeyPem(),
        CertificatePem = certificatePem,
        ServerKeyPem = serverKeyPem,
        PinnedCertificates = { [userId] = Keyward.Client.DeviceKeys.Fingerprint(certificatePem) },
        OwnSubjects = { Keyward.Client.DeviceKeys.Fingerprint(certificatePem) },
    };

    /// <summary>Carries what an earlier state of this device knew about the logs (a re-adopted key keeps its history).</summary>
    public void KeepLogMemory(DeviceState previous)
    {
        LogKeyPem = previous.LogKeyPem;
        KeysLogOrigin = previous.KeysLogOrigin;
        KeysLogSize = previous.KeysLogSize;
        KeysLogRoot = previous.KeysLogRoot;
        MonitoredUpTo = previous.MonitoredUpTo;
        MonitoredTenantUpTo = previous.MonitoredTenantUpTo;
        OwnSubjects.UnionWith(previous.OwnSubjects);
    }

    public static string Home => Environment.GetEnvironmentVariable("KEYWARD_HOME") is { Length: > 0 } home
        ? home
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".keyward");

    /// <summary>Where encrypted file bodies live: the stand-in for Nextcloud's file layer (KEYWARD_STORE).</summary>
    public static string Store => Environment.GetEnvironmentVariable("KEYWARD_STORE") is { Length: > 0 } store ? store : Path.Combine(Home, "store");

    private static string FilePath => Path.Combine(Home, "device.json");

    public static bool Exists => File.Exists(FilePath);

    public static DeviceState Load()
    {
        if (!Exists)
        {
            throw new CliError($"this device has no keys yet ({FilePath}): run `keyward init` (first device) or `keyward device add` (another device)");
        }

        return JsonSerializer.Deserialize<DeviceState>(File.ReadAllText(FilePath)) ?? throw new CliError($"{FilePath} is damaged");
    }

    public void Save()
    {
        Directory.CreateDirectory(Home);
        var path = FilePath;
        File.WriteAllText(path, JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public RSA PrivateKey()
    {
        var key = RSA.Create();
        key.ImportFromPem(PrivateKeyPem);
        return key;
    }

    public string FolderId(string folder) =>
        Folders.TryGetValue(folder, out var id) ? id
        : folder.All(char.IsAsciiDigit) ? folder
        : throw new CliError($"no folder called '{folder}' on this device (use its id, or `keyward folder create`)");
}
