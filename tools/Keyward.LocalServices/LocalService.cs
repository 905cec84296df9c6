namespace Keyward.LocalServices;

/// <summary>A Keyward service as this repository builds it.</summary>
public sealed record LocalService(string Name, string Assembly)
{
    public static readonly IReadOnlyList<LocalService> All =
    [
        new("certificate-authority", "Keyward.CertificateAuthority"),
        new("keyserver", "Keyward.Keyserver"),
        new("metadata", "Keyward.Metadata"),
        new("audit", "Keyward.Audit"),
        new("gateway", "Keyward.Gateway"),
    ];

    public static LocalService Named(string name) =>
        All.SingleOrDefault(s => s.Name == name) ?? throw new ArgumentException($"no service named '{name}' (known: {string.Join(", ", All.Select(s => s.Name))})");

    /// <summary>The folder of its build output.</summary>
    public string BuildDirectory(string repositoryRoot, string configuration) => Path.Combine(repositoryRoot, "services", Name, "bin", configuration, "net10.0");

    public string Dll(string repositoryRoot, string configuration) => Path.Combine(BuildDirectory(repositoryRoot, configuration), Assembly + ".dll");
}

/// <summary>A service's two loopback ports: HTTP/1.1 (REST, OCS, probes) and HTTP/2 (gRPC).</summary>
public sealed record ServicePorts(int Http, int Grpc);
