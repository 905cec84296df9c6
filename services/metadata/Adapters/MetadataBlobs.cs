using Keyward.Metadata.Core;
using Marten;

namespace Keyward.Metadata.Adapters;

/// <summary>A metadata text, stored once under its SHA-256 (hex) and referred to by folders and versions.</summary>
public sealed class MetadataBlob
{
    public string Id { get; set; } = "";

    public string Text { get; set; } = "";
}

/// <summary>
/// Keeps metadata texts out of the folder documents: a folder is stored with its committed and pending texts
/// replaced by their SHA-256, and each text is written once as a <see cref="MetadataBlob"/>. So a lock, an unlock or a
/// sweep rewrites a folder document of a few hundred bytes, not the whole (up to 16 MiB) metadata as jsonb, and a
/// version event refers to its text instead of copying it. Documents and events of earlier releases still carry the
/// text inline and load as they are; they are split on their next save.
/// </summary>
public static class MetadataBlobs
{
    /// <summary>
    /// The folders whose texts must be read: all of them when asked, else only those whose pending version was written by
    /// an earlier release (without the hash, version and users an unlock needs, so the unlock reads its text).
    /// </summary>
    public static IReadOnlyCollection<EncryptedFolder> NeedingTexts(IEnumerable<EncryptedFolder> folders, bool withTexts) =>
        folders.Where(f => withTexts || f.Pending is { Metadata: null, UserIds: null, Sha256.Length: > 0 }).ToList();

    /// <summary>Puts the texts back into loaded folders (one round trip for all of them); remembers which blobs exist.</summary>
    public static async Task FillAsync(IQuerySession session, IReadOnlyCollection<EncryptedFolder> folders, ISet<string> known, CancellationToken cancellationToken)
    {
        var wanted = folders.SelectMany(Missing).Distinct().ToArray();
        if (wanted.Length == 0)
        {
            return;
        }

        var texts = (await session.LoadManyAsync<MetadataBlob>(cancellationToken, wanted)).ToDictionary(b => b.Id, b => b.Text);
        foreach (var folder in folders)
        {
            if (folder.Committed is { Metadata: null or "" } committed && texts.TryGetValue(committed.Sha256, out var text))
            {
                folder.Committed = committed with { Metadata = text };
            }

            if (folder.Pending is { Metadata: null, Sha256: { Length: > 0 } sha } pending && texts.TryGetValue(sha, out var pendingText))
            {
                folder.Pending = pending with { Metadata = pendingText };
            }
        }

        known.UnionWith(texts.Keys);
    }

    /// <summary>Stores the folder without its texts, and each text not yet stored.</summary>
    public static void Store(IDocumentSession session, EncryptedFolder folder, ISet<string> known)
    {
        var stored = folder.ShallowCopy();
        if (folder.Committed is { Metadata: { Length: > 0 } text } committed)
        {
            Keep(session, committed.Sha256, text, known);
            stored.Committed = committed with { Metadata = "" };
        }

        if (folder.Pending is { Metadata: { } pendingText } pending)
        {
            var sha = pending.Sha256.Length > 0 ? pending.Sha256 : MetadataCommit.Sha256(pendingText);
            Keep(session, sha, pendingText, known);
            stored.Pending = pending with { Metadata = null, Sha256 = sha };
        }

        session.Store(stored);
    }

    /// <summary>A version event that refers to its text (stored with the folder that committed it).</summary>
    public static MetadataVersionRecorded Referring(IDocumentSession session, MetadataVersionRecorded version, ISet<string> known)
    {
        if (version.Metadata.Length == 0)
        {
            return version;
        }

        Keep(session, version.Sha256, version.Metadata, known);
        return version with { Metadata = "" };
    }

    /// <summary>Versions read back with their texts.</summary>
    public static async Task<IReadOnlyList<MetadataVersionRecorded>> FillAsync(IQuerySession session, IReadOnlyList<MetadataVersionRecorded> versions, CancellationToken cancellationToken)
    {
        var wanted = versions.Where(v => v.Metadata.Length == 0 && v.Sha256.Length > 0).Select(v => v.Sha256).Distinct().ToArray();
        if (wanted.Length == 0)
        {
            return versions;
        }

        var texts = (await session.LoadManyAsync<MetadataBlob>(cancellationToken, wanted)).ToDictionary(b => b.Id, b => b.Text);
        return versions.Select(v => v.Metadata.Length == 0 && texts.TryGetValue(v.Sha256, out var text) ? v with { Metadata = text } : v).ToList();
    }

    private static IEnumerable<string> Missing(EncryptedFolder folder)
    {
        if (folder.Committed is { Metadata: null or "", Sha256: { Length: > 0 } committed })
        {
            yield return committed;
        }

        if (folder.Pending is { Metadata: null, Sha256: { Length: > 0 } pending })
        {
            yield return pending;
        }
    }

    private static void Keep(IDocumentSession session, string sha, string text, ISet<string> known)
    {
        if (known.Add(sha))
        {
            // Content-addressed: storing the same text again changes nothing but the write.
            session.Store(new MetadataBlob { Id = sha, Text = text });
        }
    }

}
