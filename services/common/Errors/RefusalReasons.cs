using Keyward.Common.V1;

namespace Keyward.Common.Errors;

/// <summary>The wire name of a <see cref="RefusalReason"/> (its proto name without the prefix, e.g. KEY_EXISTS) and back.</summary>
public static class RefusalReasons
{
    private const string Prefix = "REFUSAL_REASON_";

    private static readonly Dictionary<RefusalReason, string> Names = RefusalReflection.Descriptor.EnumTypes[0].Values
        .ToDictionary(v => (RefusalReason)v.Number, v => v.Name[Prefix.Length..]);

    private static readonly Dictionary<string, RefusalReason> Values = Names.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    public static string Name(RefusalReason reason) => Names.TryGetValue(reason, out var name) ? name : Names[RefusalReason.Unspecified];

    /// <summary>The reason a wire name stands for; <see cref="RefusalReason.Unspecified"/> for names this build does not know.</summary>
    public static RefusalReason Parse(string? name) =>
        name is not null && Values.TryGetValue(name, out var reason) ? reason : RefusalReason.Unspecified;
}
