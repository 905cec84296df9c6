using System.Text.Json;

namespace Keyward.Tests.Shared;

/// <summary>The test vectors from Nextcloud's repositories in ../shared/reference/vectors next to the repository.</summary>
public static class Vectors
{
    public static string Directory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "..", "shared", "reference", "vectors");
                if (File.Exists(Path.Combine(dir.FullName, "Services.sln")) && System.IO.Directory.Exists(candidate))
                {
                    return Path.GetFullPath(candidate);
                }
            }

            throw new InvalidOperationException("../shared/reference/vectors not found next to the repository.");
        }
    }

    public static JsonElement Load(string relativePath) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, relativePath))).RootElement;
}
