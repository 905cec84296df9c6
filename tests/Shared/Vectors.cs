using System.Text.Json;

namespace Keyward.Tests.Shared;

/// <summary>The test vectors from Nextcloud's repositories in ../shared/reference/vectors next to the repository.</summary>
public static class Vectors
{
    public static string Directory
    {
        get
        {
            if (Environment.GetEnvironmentVariable("KEYWARD_VECTORS") is { Length: > 0 } configured)
            {
                return configured;
            }

            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "..", "shared", "reference", "vectors");
                if (File.Exists(Path.Combine(dir.FullName, "Services.sln")) && System.IO.Directory.Exists(candidate))
                {
                    return Path.GetFullPath(candidate);
                }
            }

            throw new InvalidOperationException("The Nextcloud test vectors were not found: expected ../shared/reference/vectors next to the repository, or set KEYWARD_VECTORS to their folder.");
        }
    }

    public static JsonElement Load(string relativePath) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, relativePath))).RootElement;
}
