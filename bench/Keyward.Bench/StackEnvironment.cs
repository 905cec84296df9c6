namespace Keyward.Bench;

/// <summary>The local stack's connection details from .stack/env (written by scripts/stack up).</summary>
public sealed class StackEnvironment
{
    private readonly Dictionary<string, string> _values;

    private StackEnvironment(string root, Dictionary<string, string> values)
    {
        RepositoryRoot = root;
        _values = values;
    }

    public string RepositoryRoot { get; }

    public string this[string name] => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value
        : _values.TryGetValue(name, out var stored) ? stored
        : throw new InvalidOperationException($"{name} is not set: start the stack with scripts/stack up (scripts/bench does it)");

    public static StackEnvironment Load()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Services.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("run the benchmarks from the repository's build output");
        }

        var env = Path.Combine(root.FullName, ".stack", "env");
        var values = File.Exists(env)
            ? File.ReadAllLines(env).Where(l => l.Contains('=') && !l.StartsWith('#')).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..].Trim('\''))
            : [];
        return new StackEnvironment(root.FullName, values);
    }
}
