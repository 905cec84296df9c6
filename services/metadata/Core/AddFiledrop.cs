using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keyward.Metadata.Core;

/// <summary>
/// PUT meta-data/{id}/filedrop (reference §a.4): merges entries into the committed metadata and commits at
/// once, refused while a client holds a lock anywhere on the path. Returns the entries as merged.
/// </summary>
public sealed class AddFiledrop(FolderContext context)
{
    private const string Action = "metadata.filedrop.added";

    public async Task<JsonObject> ExecuteAsync(string folderId, string? filedrop, CancellationToken ct)
    {
        FolderContext.RequireFolderId(folderId);
        var entries = Parse(filedrop);
        return await context.Folders.ChangeAsync(async change =>
        {
            var tree = await change.LoadTreeAsync(folderId, ct);
            if (tree is null || !FolderAccess.MayUse(tree.Root, context.Caller))
            {
                throw await context.DeniedAsync(Action, folderId, ct);
            }

            // The reference takes its own short lock: a client's lock anywhere on the path wins (412).
            if (tree.Locks.IsLockedAtAll(tree.Folder))
            {
                throw MetadataRefusals.Locked(folderId);
            }

            var committed = tree.Folder.Committed ?? throw MetadataRefusals.MetadataNotFound(folderId);
            var merged = MetadataDocument.MergeFiledrop(committed.Metadata, entries);
            var version = MetadataCommit.CommitDirectly(tree.Folder, merged, committed.Signature, VersionKinds.Filedrop, context.Caller.UserId, context.Now);
            change.AppendVersion(tree.Folder.Id, version);
            change.Record(FolderContext.Success(Action, tree.Folder.Id, ("entries", FolderContext.Number(entries.Count)), ("version", FolderContext.Number(version.Number))));
            change.Save(tree);
            await change.CommitAsync(ct);
            return entries;
        }, ct);
    }

    private static JsonObject Parse(string? filedrop)
    {
        try
        {
            return JsonNode.Parse(filedrop ?? "") as JsonObject ?? throw MetadataRefusals.FiledropInvalid();
        }
        catch (JsonException)
        {
            throw MetadataRefusals.FiledropInvalid();
        }
    }
}
