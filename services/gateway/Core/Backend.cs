namespace Keyward.Gateway.Core;

/// <summary>
/// A service behind the gateway: its name (also the value of the <c>keyward-service</c> header that
/// routes a gRPC health check to it), the proto package it owns and the REST prefix it answers under.
/// </summary>
public sealed record Backend(string Name, string ProtoPackage, string RestPrefix)
{
    /// <summary>
    /// When set, only these gRPC paths and REST paths reach the service through the gateway; everything else of it is
    /// service-to-service only. Null: the whole package and prefix.
    /// </summary>
    public IReadOnlyList<string>? GrpcPaths { get; init; }

    public IReadOnlyList<string>? RestPaths { get; init; }

    /// <summary>REST path patterns outside the service's own prefix that it answers (more specific than the owner's catch-all).</summary>
    public IReadOnlyList<string> AlsoServes { get; init; } = [];

    /// <summary>The header that sends <c>grpc.health.v1.Health</c> calls to one backend instead of the gateway.</summary>
    public const string ServiceHeader = "keyward-service";

    public static readonly IReadOnlyList<Backend> All =
    [
        // The CA signs only for the keyserver (certificates) and the audit service (checkpoints), never for a caller at the
        // edge: only its public keys are served through the gateway.
        new("certificate-authority", "keyward.certificate_authority.v1", "ca")
        {
            GrpcPaths =
            [
                "/keyward.certificate_authority.v1.CertificateAuthority/WhoAmI",
                "/keyward.certificate_authority.v1.CertificateAuthority/GetServerKey",
                "/keyward.certificate_authority.v1.CertificateAuthority/GetCheckpointKey",
            ],
            RestPaths = ["/v1/ca/whoami", "/v1/ca/server-key", "/v1/ca/checkpoint-key"],
        },
        new("keyserver", "keyward.keyserver.v1", "keys"),
        new("metadata", "keyward.metadata.v1", "folders"),
        // The audit service keeps both of a tenant's logs: the audit trail and key transparency.
        new("audit", "keyward.audit.v1", "audit") { AlsoServes = ["/v1/keys/transparency/{**rest}"] },
    ];
}
