namespace Keyward.Keyserver.Core;

/// <summary>The users whose certificates a caller asks for: as listed, the caller appended if missing (reference §a.2).</summary>
public static class UserIds
{
    public const int MaxCount = 1000;
    public const int MaxLength = 256;

    public static IReadOnlyList<string> WithCaller(IEnumerable<string> requested, string caller)
    {
        var ids = requested.ToList();
        if (!ids.Contains(caller, StringComparer.Ordinal))
        {
            ids.Add(caller);
        }

        return ids;
    }

    public static bool AreValid(IReadOnlyCollection<string> ids) =>
        ids.Count <= MaxCount && ids.All(id => id.Length is > 0 and <= MaxLength);
}
