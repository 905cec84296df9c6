using System.Globalization;
using System.Text.Json.Nodes;
using Keyward.Gateway.Core;
using Keyward.Metadata.V1;
using MetadataClient = Keyward.Metadata.V1.MetadataService.MetadataServiceClient;

namespace Keyward.Gateway.Api;

/// <summary>
/// The Nextcloud encryption-flag, metadata, filedrop and lock endpoints (reference §a.3–a.6) on top of the
/// metadata service; refusals answered through <see cref="OcsRefusalTable"/> for the endpoint's API version.
/// </summary>
public static class OcsMetadataEndpoints
{
    private const string SignatureHeader = "X-NC-E2EE-SIGNATURE";
    private const string TokenHeader = "e2e-token";
    private const string CounterHeader = "X-NC-E2EE-COUNTER";

    public static void Map(RouteGroupBuilder api, OcsFlavor flavor, int apiVersion, OcsLimits limits)
    {
        var v1 = apiVersion == 1;
        var version = v1 ? ApiVersion.V1 : ApiVersion.V2;
        Task<IResult> Run(HttpContext http, OcsOperation operation, string id, Func<Task<OcsAnswer>> action, bool gated = true) =>
            OcsCall.RunAsync(http, flavor, operation, gated, action, apiVersion, id);

        api.MapPut("/encrypted/{id}", (string id, HttpContext http, MetadataClient metadata) => Run(http, OcsOperation.MarkEncrypted, id, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            // Through the front door the instance says which folders are whose, not who asks first.
            if (http.Features.Get<FrontDoorCaller>() is { } caller && !await MayFlagAsync(http, caller, id))
            {
                return OcsAnswer.Returned(404, "Folder not found");
            }

            await metadata.RegisterFolderAsync(new RegisterFolderRequest { FolderId = id, ParentId = parameters["parentId"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.OkEmpty();
        })).WithBodyLimits(limits.KeyBodyBytes);

        api.MapDelete("/encrypted/{id}", (string id, HttpContext http, MetadataClient metadata) => Run(http, OcsOperation.UnmarkEncrypted, id, async () =>
        {
            await metadata.UnregisterFolderAsync(new UnregisterFolderRequest { FolderId = id }, cancellationToken: http.RequestAborted);
            return OcsAnswer.OkEmpty();
        }));

        // "Reset E2EE" (reference §a.3): the ids as numbers, as Nextcloud's file ids are; an id that is not a number as it is.
        api.MapDelete("/encrypted-files", (HttpContext http, MetadataClient metadata) => Run(http, OcsOperation.ResetEncryptedFiles, "", async () =>
        {
            var reset = await metadata.ResetFoldersAsync(new ResetFoldersRequest(), cancellationToken: http.RequestAborted);
            var ids = new JsonArray(reset.DeletedIds.Select(id => long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                ? JsonValue.Create(number) : (JsonNode)JsonValue.Create(id)).ToArray());
            return OcsAnswer.Ok(new JsonObject { ["deletedIds"] = ids });
        }));

        api.MapGet("/meta-data/{id}", (string id, HttpContext http, MetadataClient metadata) => Run(http, OcsOperation.GetMetadata, id, async () =>
        {
            var found = await metadata.GetMetadataAsync(new GetMetadataRequest { FolderId = id, ApiVersion = version }, cancellationToken: http.RequestAborted);
            // The committed signature goes back exactly as stored (reference §i); API 1 has none.
            return OcsAnswer.Ok(new JsonObject { ["meta-data"] = found.Metadata }) with
            {
                Headers = v1 ? null : new Dictionary<string, string> { [SignatureHeader] = found.Signature },
            };
        }));

        api.MapPost("/meta-data/{id}", (string id, HttpContext http, MetadataClient metadata) => Run(http, OcsOperation.CreateMetadata, id, async () =>
        {
            var written = await metadata.CreateMetadataAsync(await WriteRequestAsync(http, id, version), cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["meta-data"] = written.Metadata });
        })).WithBodyLimits(limits.MetadataBodyBytes);

        api.MapPut("/meta-data/{id}", (string id, HttpContext http, MetadataClient metadata) => Run(http, OcsOperation.UpdateMetadata, id, async () =>
        {
            var written = await metadata.UpdateMetadataAsync(await WriteRequestAsync(http, id, version), cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["meta-data"] = written.Metadata });
        })).WithBodyLimits(limits.MetadataBodyBytes);

        api.MapDelete("/meta-data/{id}", (string id, HttpContext http, MetadataClient metadata) => Run(http, OcsOperation.DeleteMetadata, id, async () =>
        {
            var request = new DeleteMetadataRequest { FolderId = id, Token = http.Request.Headers[TokenHeader].ToString(), ApiVersion = version };
            await metadata.DeleteMetadataAsync(request, cancellationToken: http.RequestAborted);
            return OcsAnswer.OkEmpty();
        }));

        // Not gated by client (reference §a.0): file-drop uploaders use whatever client they have.
        api.MapPut("/meta-data/{id}/filedrop", (string id, HttpContext http, MetadataClient metadata) => Run(http, OcsOperation.AddFiledrop, id, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            var added = await metadata.AddFiledropAsync(new AddFiledropRequest { FolderId = id, Filedrop = parameters["filedrop"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["filedrop"] = JsonNode.Parse(added.Filedrop) });
        }, gated: false)).WithBodyLimits(limits.MetadataBodyBytes);

        api.MapPost("/lock/{id}", (string id, HttpContext http, MetadataClient metadata) => Run(http, OcsOperation.LockFolder, id, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            var request = new LockRequest { FolderId = id, Token = parameters["e2e-token"] ?? "", ApiVersion = version, Counter = Counter(http) };
            var locked = await metadata.LockAsync(request, cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["e2e-token"] = locked.Token });
        })).WithBodyLimits(limits.KeyBodyBytes);

        api.MapDelete("/lock/{id}", (string id, HttpContext http, MetadataClient metadata) => Run(http, OcsOperation.UnlockFolder, id, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            var request = new UnlockRequest
            {
                FolderId = id,
                Token = http.Request.Headers[TokenHeader].ToString(),
                // The web client sends abort in a JSON body, desktop in the query (reference §i); API 1 has no abort.
                Abort = !v1 && string.Equals(parameters["abort"], "true", StringComparison.OrdinalIgnoreCase),
                ApiVersion = version,
            };
            var unlocked = await metadata.UnlockAsync(request, cancellationToken: http.RequestAborted);
            // Through the front door the instance's staged files go with the metadata (reference §1.5).
            if (http.Features.Get<FrontDoorCaller>() is { } caller)
            {
                await http.RequestServices.GetRequiredService<FrontDoorWebDav>().FinalizeAsync(caller, Common.Auth.TenantContext.FromPrincipal(http.User).UserId,
                    unlocked.FinalizedFolderIds, request.Abort, http.RequestAborted);
            }

            return OcsAnswer.OkEmpty();
        })).WithBodyLimits(limits.KeyBodyBytes);
    }

    /// <summary>API 2 sends the token and signature as headers; API 1 sends the token as a parameter (reference §a.6).</summary>
    private static async Task<WriteMetadataRequest> WriteRequestAsync(HttpContext http, string id, ApiVersion version)
    {
        var parameters = await OcsParameters.ReadAsync(http.Request);
        var token = http.Request.Headers[TokenHeader].ToString();
        if (version == ApiVersion.V1 && string.IsNullOrEmpty(token))
        {
            token = parameters["e2e-token"] ?? "";
        }

        return new WriteMetadataRequest
        {
            FolderId = id,
            Token = token,
            Signature = http.Request.Headers[SignatureHeader].ToString(),
            Metadata = parameters["metaData"] ?? "",
            ApiVersion = version,
        };
    }

    /// <summary>The new counter from the header; anything but a positive integer counts as missing.</summary>
    private static long Counter(HttpContext http) =>
        long.TryParse(http.Request.Headers[CounterHeader].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;

    private static async Task<bool> MayFlagAsync(HttpContext http, FrontDoorCaller caller, string id)
    {
        try
        {
            return await http.RequestServices.GetRequiredService<FrontDoorWebDav>().MayFlagAsync(caller, Common.Auth.TenantContext.FromPrincipal(http.User).UserId, id, http.RequestAborted);
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !http.RequestAborted.IsCancellationRequested))
        {
            throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Unavailable, "the Nextcloud instance could not be asked about the folder"));
        }
    }
}
