namespace Keyward.LocalServices;

/// <summary>
/// The local stack's connection details: the environment first, then <c>.stack/env</c> written by
/// <c>scripts/stack up</c>.
/// </summary>
public sealed class StackValues
{
    public const string HowToStart = "The local stack is not running. Start it with `scripts/stack up` (scripts/up, scripts/test and scripts/bench do it).";

    private readonly Dictionary<string, string> _file;

    private StackValues(string repositoryRoot, Dictionary<string, string> file)
    {
        RepositoryRoot = repositoryRoot;
        _file = file;
    }

    public string RepositoryRoot { get; }

    public string? this[string name] => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : _file.GetValueOrDefault(name);

    public string Required(string name) => this[name] ?? throw new InvalidOperationException($"{name} is not set. {HowToStart}");

    public static StackValues Load(string? repositoryRoot = null)
    {
        var root = repositoryRoot ?? FindRepositoryRoot(AppContext.BaseDirectory);
        return new StackValues(root, ReadEnvFile(Path.Combine(root, ".stack", "env")));
    }

    public static string FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Services.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Services.sln not found above {start}.");
    }

    private static Dictionary<string, string> ReadEnvFile(string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return values;
        }

        foreach (var line in File.ReadAllLines(path))
        {
            var separator = line.IndexOf('=');
            if (!line.StartsWith('#') && separator > 0)
            {
                values[line[..separator]] = line[(separator + 1)..].Trim('\'');
            }
        }

        return values;
    }
}
