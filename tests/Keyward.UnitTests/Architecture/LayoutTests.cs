using System.Reflection;
using NetArchTest.Rules;

namespace Keyward.UnitTests.Architecture;

/// <summary>
/// The rule of docs/ARCHITECTURE.md, "Core knows no transport and no store": a service's Core/ (use cases,
/// model, refusals, ports) references no storage, messaging, RPC or HSM library, nor its own Api/ or Adapters/.
/// Api/ translates and holds no storage, messaging or HSM code either.
/// </summary>
public sealed class LayoutTests
{
    private static readonly string[] Transports = ["Grpc", "Google.Protobuf.WellKnownTypes", "Microsoft.AspNetCore", "MassTransit", "Yarp"];
    private static readonly string[] Stores = ["Marten", "Npgsql", "JasperFx", "Weasel", "Net.Pkcs11Interop"];

    public static TheoryData<string> Services => new() { "Metadata", "Keyserver", "CertificateAuthority", "Audit", "Gateway" };

    private static Assembly AssemblyOf(string service) => service switch
    {
        "Metadata" => typeof(Keyward.Metadata.MetadataSetup).Assembly,
        "Keyserver" => typeof(Keyward.Keyserver.KeyserverSetup).Assembly,
        "CertificateAuthority" => typeof(Keyward.CertificateAuthority.CertificateAuthoritySetup).Assembly,
        "Audit" => typeof(Keyward.Audit.AuditSetup).Assembly,
        "Gateway" => typeof(Keyward.Gateway.GatewaySetup).Assembly,
        _ => throw new ArgumentOutOfRangeException(nameof(service)),
    };

    [Theory]
    [MemberData(nameof(Services))]
    public void Core_knows_no_transport_and_no_store(string service)
    {
        var core = $"Keyward.{service}.Core";
        var types = Types.InAssembly(AssemblyOf(service)).That().ResideInNamespace(core);
        Assert.NotEmpty(types.GetTypes());

        var result = types.ShouldNot().HaveDependencyOnAny([.. Transports, .. Stores, $"Keyward.{service}.Api", $"Keyward.{service}.Adapters", $"Keyward.{service}.Jobs"]).GetResult();

        Assert.True(result.IsSuccessful, $"{core} depends on a transport, a store or an outer layer: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void Api_translates_and_holds_no_store(string service)
    {
        var api = $"Keyward.{service}.Api";
        var types = Types.InAssembly(AssemblyOf(service)).That().ResideInNamespace(api);
        Assert.NotEmpty(types.GetTypes());

        var result = types.ShouldNot().HaveDependencyOnAny([.. Stores, "MassTransit"]).GetResult();

        Assert.True(result.IsSuccessful, $"{api} reaches a store itself: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void Every_type_lives_in_one_of_the_rooms(string service)
    {
        var root = $"Keyward.{service}";
        string[] rooms = [$"{root}.Api", $"{root}.Core", $"{root}.Adapters", $"{root}.Jobs", $"{root}.V1"];
        var strays = AssemblyOf(service).GetTypes()
            .Where(t => t.Namespace is { } ns && ns.StartsWith(root, StringComparison.Ordinal) && ns != root && !rooms.Any(r => ns == r || ns.StartsWith(r + ".", StringComparison.Ordinal)))
            .Where(t => !t.Name.StartsWith('<'))
            .Select(t => t.FullName)
            .ToList();

        Assert.True(strays.Count == 0, $"types outside Api/, Core/, Adapters/, Jobs/: {string.Join(", ", strays)}");
    }
}
