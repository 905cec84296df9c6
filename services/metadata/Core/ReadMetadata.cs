using Keyward.Metadata.V1;

namespace Keyward.Metadata.Core;

/// <summary>GET meta-data/{id} (reference §a.4, §a.6): the committed version, never what is pending under a lock (§b).</summary>
public sealed class ReadMetadata(FolderContext context)
{
    public async Task<CommittedMetadata> ExecuteAsync(string folderId, ApiVersion apiVersion, CancellationToken ct)
    {
        FolderContext.RequireFolderId(folderId);
        var tree = await context.Folders.ReadTreeAsync(folderId, ct) ?? throw MetadataRefusals.FolderNotFound(folderId);
        if (!FolderAccess.MayUse(tree.Root, context.Caller))
        {
            throw await context.DeniedAsync("metadata.metadata.read", folderId, ct);
        }

        var committed = tree.Folder.Committed ?? throw MetadataRefusals.MetadataNotFound(folderId);
        return apiVersion == ApiVersion.V1 && !MetadataDocument.IsVersion1(committed.Version) ? throw MetadataRefusals.VersionUnsupported() : committed;
    }
}
