using System.Diagnostics;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Keyward.IntegrationTests.Deploy;

/// <summary>Runs Helm against deploy/helm/keyward and parses what it renders.</summary>
public static class HelmChart
{
    public static string Root => Infrastructure.StackSettings.RepositoryRootPath();

    public static string ChartPath => Path.Combine(Root, "deploy", "helm", "keyward");

    public static string ProductionValues => Path.Combine(Root, "deploy", "helm", "values-production.yaml");

    public static string Helm
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("KEYWARD_HELM") is { Length: > 0 } configured ? configured : Path.Combine(Root, ".stack", "tools", "helm");
            return File.Exists(path) ? path : throw new InvalidOperationException($"Helm is not installed at {path}: run scripts/stack up (or scripts/test), which fetches it.");
        }
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Helm, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    /// <summary>Renders the chart and returns every manifest as JSON.</summary>
    public static async Task<List<JsonObject>> TemplateAsync(params string[] extra)
    {
        var (exitCode, output) = await RunAsync(["template", "test", ChartPath, .. extra]);
        Assert.True(exitCode == 0, output);
        var manifests = new List<JsonObject>();
        var deserializer = new DeserializerBuilder().Build();
        var json = new SerializerBuilder().JsonCompatible().Build();
        var parser = new Parser(new StringReader(output));
        parser.Consume<StreamStart>();
        while (parser.Accept<DocumentStart>(out _))
        {
            var document = deserializer.Deserialize(parser);
            if (document is not null && JsonNode.Parse(json.Serialize(document)) is JsonObject manifest)
            {
                manifests.Add(manifest);
            }
        }

        return manifests;
    }
}
