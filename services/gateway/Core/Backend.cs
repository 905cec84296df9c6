namespace Keyward.Gateway.Core;

/// <summary>
/// A service behind the gateway: its name (also the value of the <c>keyward-service</c> header that
/// routes a gRPC health check to it), the proto package it owns and the REST prefix it answers under.
/// </summary>
public sealed record Backend(string Name, string ProtoPackage, string RestPrefix)
{
    /// <summary>The header that sends <c>grpc.health.v1.Health</c> calls to one backend instead of the gateway.</summary>
    public const string ServiceHeader = "keyward-service";

    public static readonly IReadOnlyList<Backend> All =
    [
        new("certificate-authority", "keyward.certificate_authority.v1", "ca"),
        new("keyserver", "keyward.keyserver.v1", "keys"),
        new("metadata", "keyward.metadata.v1", "folders"),
        new("audit", "keyward.audit.v1", "audit"),
    ];
}
