using Keyward.LocalServices;

namespace Keyward.Bench;

/// <summary>The local stack's connection details (tools/Keyward.LocalServices reads them from .stack/env); a missing one stops the run.</summary>
public sealed class StackEnvironment(StackValues values)
{
    public StackValues Values => values;

    public string RepositoryRoot => values.RepositoryRoot;

    public string this[string name] => values.Required(name);

    public static StackEnvironment Load() => new(StackValues.Load());
}
