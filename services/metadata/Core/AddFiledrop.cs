using Keyward.Common.Limits;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keyward.Metadata.Core;

/// <summary>
/// PUT meta-data/{id}/filedrop (reference §a.4): merges entries into the committed metadata and commits at
/// once, refused while a client holds a lock anywhere on the path. Returns the entries as merged.
/// </summary>
public sealed class AddFiledrop(FolderContext context, MetadataLimits limits, CallerBudget? budget = null)
{
    private const string Action = "metadata.filedrop.added";

    public async Task<JsonObject> ExecuteAsync(string folderId, string? filedrop, CancellationToken ct)
    {
        FolderContext.RequireFolderId(folderId);
        budget?.Take(context.Caller);
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
            // Entries are checked as a document's filedrop is, and the merged document must stay within the limits.
            using (var added = JsonDocument.Parse(entries.ToJsonString()))
            {
                var existing = JsonNode.Parse(committed.Metadata)?["filedrop"] is JsonObject present ? present.Count(e => !entries.ContainsKey(e.Key)) : 0;
                if (MetadataValidation.FiledropProblem(added.RootElement, existing, limits) is { } problem)
                {
                    throw await context.RefusedAsync(Action, folderId, MetadataRefusals.MetadataRefused(problem), ct);
                }
            }

            var merged = MetadataDocument.MergeFiledrop(committed.Metadata, entries);
            if (merged.Length > limits.MaxBytes)
            {
                throw await context.RefusedAsync(Action, folderId, MetadataRefusals.MetadataRefused(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"with these entries the metadata would be larger than {limits.MaxBytes:N0} bytes")), ct);
            }

            // filedrop is not signed (§e.2): the stored signature, and whether it was verified, stay as they were.
            var version = MetadataCommit.CommitDirectly(tree.Folder, merged, committed.Signature, VersionKinds.Filedrop, context.Caller.UserId, context.Now, committed.SignatureVerified);
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
