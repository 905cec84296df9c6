using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Keyward.Common.Errors;
using Keyward.Gateway.Domain;
using Keyward.Metadata.V1;
using MetadataClient = Keyward.Metadata.V1.MetadataService.MetadataServiceClient;

namespace Keyward.Gateway.Api;

/// <summary>
/// The Nextcloud encryption-flag, metadata, filedrop and lock endpoints (reference §a.3–a.6) on top of the
/// metadata service. Each endpoint maps the service's refusal reasons to the reference's status, error
/// shape and message for its API version.
/// </summary>
public static class OcsMetadataEndpoints
{
    private const string SignatureHeader = "X-NC-E2EE-SIGNATURE";
    private const string TokenHeader = "e2e-token";
    private const string CounterHeader = "X-NC-E2EE-COUNTER";
    private const string VersionMessage = "Client version cannot handle the requested encryption version.";

    public static void Map(RouteGroupBuilder api, OcsFlavor flavor, int apiVersion)
    {
        var v1 = apiVersion == 1;

        api.MapPut("/encrypted/{id}", (string id, HttpContext http, MetadataClient metadata) => Call(http, flavor, gated: true, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            await metadata.RegisterFolderAsync(new RegisterFolderRequest { FolderId = id, ParentId = parameters["parentId"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.OkEmpty();
        }, reason => reason switch
        {
            "FOLDER_NOT_FOUND" => OcsAnswer.Returned(404, "Folder not found"),
            "ACCESS_DENIED" => OcsAnswer.Returned(403, "You are not allowed to set the encryption flag on this folder"),
            "FOLDER_REGISTERED" => OcsAnswer.Returned(403, "You are not allowed to set the encryption flag on this folder"),
            _ => null,
        }));

        api.MapDelete("/encrypted/{id}", (string id, HttpContext http, MetadataClient metadata) => Call(http, flavor, gated: true, async () =>
        {
            await metadata.UnregisterFolderAsync(new UnregisterFolderRequest { FolderId = id }, cancellationToken: http.RequestAborted);
            return OcsAnswer.OkEmpty();
        }, reason => reason switch
        {
            "FOLDER_NOT_FOUND" => OcsAnswer.Thrown(404, $"No folder with ID {id}"),
            "FOLDER_NOT_EMPTY" => OcsAnswer.Thrown(404, $"Folder with ID {id} not empty"),
            "ACCESS_DENIED" => OcsAnswer.Returned(403, "You are not allowed to remove the encryption flag on this folder"),
            "LOCKED" => OcsAnswer.Returned(423, "File already locked"),
            _ => null,
        }));

        api.MapGet("/meta-data/{id}", async (string id, HttpContext http, MetadataClient metadata) =>
        {
            if (await ClientGate.RefuseAsync(http, flavor) is { } refused)
            {
                return refused;
            }

            try
            {
                var found = await metadata.GetMetadataAsync(new GetMetadataRequest { FolderId = id, ApiVersion = apiVersion }, cancellationToken: http.RequestAborted);
                // The committed signature goes back exactly as stored (reference §i); API 1 has none.
                var headers = v1 ? null : new Dictionary<string, string> { [SignatureHeader] = found.Signature };
                return new OcsResult(flavor, OcsAnswer.Ok(new JsonObject { ["meta-data"] = found.Metadata }), headers);
            }
            catch (RpcException e)
            {
                return new OcsResult(flavor, e.Reason() switch
                {
                    "FOLDER_NOT_FOUND" or "METADATA_NOT_FOUND" => OcsAnswer.Thrown(404, $"Could not find metadata for \"{id}\""),
                    "ACCESS_DENIED" => v1 ? OcsAnswer.Thrown(403, "You are not allowed to access the metadata of this folder") : OcsAnswer.Returned(403, "You are not allowed to access the metadata of this folder"),
                    "VERSION_UNSUPPORTED" => OcsAnswer.Thrown(403, VersionMessage),
                    "FOLDER_ID_INVALID" => OcsAnswer.Thrown(404, $"Could not find metadata for \"{id}\""),
                    _ => OcsErrors.Unexpected(e),
                });
            }
        });

        api.MapPost("/meta-data/{id}", (string id, HttpContext http, MetadataClient metadata) => Call(http, flavor, gated: true, async () =>
        {
            var written = await metadata.CreateMetadataAsync(await WriteRequestAsync(http, id, apiVersion), cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["meta-data"] = written.Metadata });
        }, reason => reason switch
        {
            "TOKEN_MISSING" => OcsAnswer.Returned(400, "e2e-token is empty"),
            "SIGNATURE_MISSING" => OcsAnswer.Returned(400, "x-nc-e2ee-signature is empty"),
            "ACCESS_DENIED" or "NOT_LOCKED" => OcsAnswer.Returned(403, "You are not allowed to set the metadata on this folder"),
            "METADATA_EXISTS" => OcsAnswer.Bare(409),
            "FOLDER_NOT_FOUND" or "FOLDER_ID_INVALID" => OcsAnswer.Thrown(404, $"Could not find metadata for \"{id}\""),
            "VERSION_UNSUPPORTED" => OcsAnswer.Thrown(403, VersionMessage),
            "METADATA_INVALID" => OcsAnswer.Thrown(400, "Cannot store metadata"),
            _ => null,
        }));

        api.MapPut("/meta-data/{id}", (string id, HttpContext http, MetadataClient metadata) => Call(http, flavor, gated: true, async () =>
        {
            var written = await metadata.UpdateMetadataAsync(await WriteRequestAsync(http, id, apiVersion), cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["meta-data"] = written.Metadata });
        }, reason => reason switch
        {
            "TOKEN_MISSING" => v1 ? NotLockedV1() : OcsAnswer.Returned(400, "e2e-token is empty"),
            "SIGNATURE_MISSING" => OcsAnswer.Returned(400, "x-nc-e2ee-signature is empty"),
            "ACCESS_DENIED" => v1 ? NotLockedV1() : OcsAnswer.Returned(403, "You are not allowed to set the metadata on this folder"),
            "NOT_LOCKED" => v1 ? NotLockedV1() : OcsAnswer.Returned(412, "Folder is not locked"),
            "METADATA_NOT_FOUND" => OcsAnswer.Thrown(404, "Metadata-file does not exist"),
            "FOLDER_NOT_FOUND" or "FOLDER_ID_INVALID" => OcsAnswer.Thrown(404, $"Could not find metadata for \"{id}\""),
            "VERSION_UNSUPPORTED" => OcsAnswer.Thrown(403, VersionMessage),
            "METADATA_INVALID" => OcsAnswer.Thrown(400, "Cannot store metadata"),
            _ => null,
        }));

        api.MapDelete("/meta-data/{id}", (string id, HttpContext http, MetadataClient metadata) => Call(http, flavor, gated: true, async () =>
        {
            var request = new DeleteMetadataRequest { FolderId = id, Token = http.Request.Headers[TokenHeader].ToString(), ApiVersion = apiVersion };
            await metadata.DeleteMetadataAsync(request, cancellationToken: http.RequestAborted);
            return OcsAnswer.OkEmpty();
        }, reason => reason switch
        {
            "TOKEN_MISSING" => OcsAnswer.Returned(400, "e2e-token is empty"),
            "ACCESS_DENIED" => v1 ? OcsAnswer.Thrown(403, "Only the owner can delete the metadata-file") : OcsAnswer.Returned(403, "You are not allowed to delete the metadata of this folder"),
            "NOT_LOCKED" => OcsAnswer.Returned(412, "Metadata is not locked"),
            "LOCKED" => OcsAnswer.Thrown(403, "File already locked"),
            "FOLDER_NOT_FOUND" or "METADATA_NOT_FOUND" or "FOLDER_ID_INVALID" => OcsAnswer.Thrown(404, $"Could not find metadata for \"{id}\""),
            "VERSION_UNSUPPORTED" => OcsAnswer.Thrown(403, VersionMessage),
            _ => null,
        }));

        // Not gated by client (reference §a.0): file-drop uploaders use whatever client they have.
        api.MapPut("/meta-data/{id}/filedrop", (string id, HttpContext http, MetadataClient metadata) => Call(http, flavor, gated: false, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            var added = await metadata.AddFiledropAsync(new AddFiledropRequest { FolderId = id, Filedrop = parameters["filedrop"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["filedrop"] = JsonNode.Parse(added.Filedrop) });
        }, reason => reason switch
        {
            "FILEDROP_INVALID" or "FOLDER_ID_INVALID" => OcsAnswer.Thrown(400, "Cannot update filedrop"),
            "ACCESS_DENIED" or "FOLDER_NOT_FOUND" => OcsAnswer.Returned(403, "You are not allowed to create the lock"),
            "LOCKED" => OcsAnswer.Thrown(412, "File already locked"),
            "METADATA_NOT_FOUND" => OcsAnswer.Thrown(404, "Metadata-file does not exist"),
            _ => null,
        }));

        api.MapPost("/lock/{id}", (string id, HttpContext http, MetadataClient metadata) => Call(http, flavor, gated: true, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            var request = new LockRequest { FolderId = id, Token = parameters["e2e-token"] ?? "", ApiVersion = apiVersion, Counter = Counter(http) };
            var locked = await metadata.LockAsync(request, cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["e2e-token"] = locked.Token });
        }, reason => (reason, v1) switch
        {
            ("COUNTER_MISSING", _) => OcsAnswer.Returned(400, "X-NC-E2EE-COUNTER is missing in the request"),
            ("ACCESS_DENIED" or "FOLDER_NOT_FOUND" or "FOLDER_ID_INVALID", false) => OcsAnswer.Returned(403, "You are not allowed to create the lock"),
            ("ACCESS_DENIED" or "FOLDER_NOT_FOUND" or "FOLDER_ID_INVALID", true) => OcsAnswer.Thrown(403, "You are not allowed to create the lock"),
            ("LOCKED", false) => OcsAnswer.Returned(423, "File already locked"),
            ("LOCKED", true) => OcsAnswer.Thrown(403, "File already locked"),
            ("COUNTER_TOO_SMALL", _) => OcsAnswer.Returned(412, "The provided counter is smaller than the current counter."),
            ("VERSION_UNSUPPORTED", _) => OcsAnswer.Thrown(403, VersionMessage),
            _ => null,
        }));

        api.MapDelete("/lock/{id}", (string id, HttpContext http, MetadataClient metadata) => Call(http, flavor, gated: true, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            var request = new UnlockRequest
            {
                FolderId = id,
                Token = http.Request.Headers[TokenHeader].ToString(),
                // The web client sends abort in a JSON body, desktop in the query (reference §i); API 1 has no abort.
                Abort = !v1 && string.Equals(parameters["abort"], "true", StringComparison.OrdinalIgnoreCase),
                ApiVersion = apiVersion,
            };
            await metadata.UnlockAsync(request, cancellationToken: http.RequestAborted);
            return OcsAnswer.OkEmpty();
        }, reason => (reason, v1) switch
        {
            ("TOKEN_MISSING", false) => OcsAnswer.Returned(400, "e2e-token is empty"),
            ("TOKEN_MISSING" or "ACCESS_DENIED" or "FOLDER_NOT_FOUND" or "NOT_LOCKED" or "FOLDER_ID_INVALID", true) => OcsAnswer.Thrown(403, "You are not allowed to remove the lock"),
            ("ACCESS_DENIED" or "FOLDER_NOT_FOUND" or "NOT_LOCKED" or "FOLDER_ID_INVALID", false) => OcsAnswer.Returned(403, "You are not allowed to remove the lock"),
            ("LOCK_NOT_FOUND", false) => OcsAnswer.Returned(404, "File not locked"),
            ("LOCK_NOT_FOUND", true) => OcsAnswer.Thrown(404, "File not locked"),
            _ => null,
        }));
    }

    private static OcsAnswer NotLockedV1() =>
        OcsAnswer.Thrown(403, "You are not allowed to edit the file, make sure to first lock it, and then send the right token");

    /// <summary>API 2 sends the token and signature as headers; API 1 sends the token as a parameter (reference §a.6).</summary>
    private static async Task<WriteMetadataRequest> WriteRequestAsync(HttpContext http, string id, int apiVersion)
    {
        var parameters = await OcsParameters.ReadAsync(http.Request);
        var token = http.Request.Headers[TokenHeader].ToString();
        if (apiVersion == 1 && string.IsNullOrEmpty(token))
        {
            token = parameters["e2e-token"] ?? "";
        }

        return new WriteMetadataRequest
        {
            FolderId = id,
            Token = token,
            Signature = http.Request.Headers[SignatureHeader].ToString(),
            Metadata = parameters["metaData"] ?? "",
            ApiVersion = apiVersion,
        };
    }

    /// <summary>The new counter from the header; anything but a positive integer counts as missing.</summary>
    private static long Counter(HttpContext http) =>
        long.TryParse(http.Request.Headers[CounterHeader].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : 0;

    private static Task<IResult> Call(HttpContext http, OcsFlavor flavor, bool gated, Func<Task<OcsAnswer>> action, Func<string?, OcsAnswer?> byReason) =>
        OcsCall.RunAsync(http, flavor, gated, action, e => byReason(e.Reason()));
}
