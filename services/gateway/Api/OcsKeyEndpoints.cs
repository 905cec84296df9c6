using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Keyward.CertificateAuthority.V1;
using Keyward.Gateway.Domain;
using Keyward.Keyserver.V1;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;
using KeysClient = Keyward.Keyserver.V1.KeyServer.KeyServerClient;

namespace Keyward.Gateway.Api;

/// <summary>
/// The Nextcloud key endpoints (reference §a.2) on top of the keyserver and the CA: same routes for API v1
/// and v2, both OCS flavors, the reference's status codes and messages.
/// </summary>
public static class OcsKeyEndpoints
{
    public static void Map(RouteGroupBuilder api, OcsFlavor flavor)
    {
        api.MapGet("/private-key", (HttpContext http, KeysClient keys) => Gated(http, flavor, async () =>
        {
            var key = await keys.GetPrivateKeyAsync(new GetPrivateKeyRequest(), cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["private-key"] = key.PrivateKey_ });
        }, e => e.StatusCode switch
        {
            StatusCode.NotFound => OcsAnswer.Returned(404, "Could not find the private key"),
            StatusCode.PermissionDenied => OcsAnswer.Returned(403, "Not allowed to get private key"),
            _ => null,
        }));

        api.MapPost("/private-key", (HttpContext http, KeysClient keys) => Gated(http, flavor, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            var stored = await keys.SetPrivateKeyAsync(new SetPrivateKeyRequest { PrivateKey = parameters["privateKey"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["private-key"] = stored.PrivateKey_ });
        }, e => e.StatusCode switch
        {
            StatusCode.InvalidArgument => OcsAnswer.Thrown(400, "Invalid private key format"),
            StatusCode.AlreadyExists => OcsAnswer.Bare(409),
            _ => null,
        }));

        // Deleting is not gated by client (reference §a.0) and succeeds when nothing is stored (§a.2).
        api.MapDelete("/private-key", (HttpContext http, KeysClient keys) => Ungated(http, flavor, async () =>
        {
            await keys.DeletePrivateKeyAsync(new DeletePrivateKeyRequest(), cancellationToken: http.RequestAborted);
            return OcsAnswer.OkEmpty();
        }, e => e.StatusCode == StatusCode.PermissionDenied ? OcsAnswer.Thrown(403, "You are not allowed to delete this private key") : null));

        api.MapPost("/public-key", (HttpContext http, KeysClient keys) => Gated(http, flavor, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            var certificate = await keys.CreateCertificateAsync(new CreateCertificateRequest { CsrPem = parameters["csr"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["public-key"] = certificate.CertificatePem });
        }, e => e.StatusCode switch
        {
            StatusCode.AlreadyExists => OcsAnswer.Bare(409),
            StatusCode.InvalidArgument => OcsAnswer.Thrown(400, e.Status.Detail),
            StatusCode.PermissionDenied => OcsAnswer.Thrown(403, e.Status.Detail),
            _ => null,
        }));

        api.MapPut("/public-key", (HttpContext http, KeysClient keys) => Gated(http, flavor, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            var certificate = await keys.StoreCertificateAsync(new StoreCertificateRequest { CertificatePem = parameters["publicKey"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["public-key"] = certificate.CertificatePem });
        }, e => e.StatusCode switch
        {
            StatusCode.AlreadyExists => OcsAnswer.Bare(409),
            StatusCode.InvalidArgument => OcsAnswer.Thrown(400, e.Status.Detail),
            _ => null,
        }));

        api.MapGet("/public-key", (HttpContext http, KeysClient keys) => Gated(http, flavor, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            if (!TryReadUserList(parameters["users"], out var users))
            {
                return OcsAnswer.Thrown(400, "Cannot decode userlist");
            }

            var request = new GetCertificatesRequest();
            request.UserIds.AddRange(users);
            var found = await keys.GetCertificatesAsync(request, cancellationToken: http.RequestAborted);
            var certificates = new JsonObject();
            foreach (var certificate in found.Certificates)
            {
                certificates[certificate.UserId] = certificate.CertificatePem;
            }

            return OcsAnswer.Ok(new JsonObject { ["public-keys"] = certificates });
        }, e => e.StatusCode switch
        {
            StatusCode.NotFound => OcsAnswer.Thrown(404, e.Status.Detail),
            StatusCode.InvalidArgument => OcsAnswer.Thrown(400, "Cannot decode userlist"),
            _ => null,
        }));

        api.MapDelete("/public-key", (HttpContext http, KeysClient keys) => Ungated(http, flavor, async () =>
        {
            await keys.DeleteCertificateAsync(new DeleteCertificateRequest(), cancellationToken: http.RequestAborted);
            return OcsAnswer.OkEmpty();
        }, e => e.StatusCode == StatusCode.PermissionDenied ? OcsAnswer.Thrown(403, "This is not your public key to delete") : null));

        api.MapGet("/server-key", (HttpContext http, CaClient ca) => Gated(http, flavor, async () =>
        {
            var key = await ca.GetServerKeyAsync(new GetServerKeyRequest(), cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["public-key"] = key.PublicKeyPem });
        }, _ => null));
    }

    /// <summary>An E2EE endpoint: only Nextcloud clients of a supported version, or ones declaring E2EE support.</summary>
    private static Task<IResult> Gated(HttpContext http, OcsFlavor flavor, Func<Task<OcsAnswer>> action, Func<RpcException, OcsAnswer?> refusal) =>
        OcsCall.RunAsync(http, flavor, gated: true, action, refusal);

    /// <summary>Deletes are not gated by client (reference §a.0).</summary>
    private static Task<IResult> Ungated(HttpContext http, OcsFlavor flavor, Func<Task<OcsAnswer>> action, Func<RpcException, OcsAnswer?> refusal) =>
        OcsCall.RunAsync(http, flavor, gated: false, action, refusal);

    /// <summary>The <c>users</c> parameter: a JSON array of user ids; absent or empty means none (the caller is added by the keyserver).</summary>
    public static bool TryReadUserList(string? value, out List<string> users)
    {
        users = [];
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        try
        {
            using var document = JsonDocument.Parse(value);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                return false;
            }

            foreach (var element in document.RootElement.EnumerateArray())
            {
                switch (element.ValueKind)
                {
                    case JsonValueKind.String:
                        users.Add(element.GetString()!);
                        break;
                    case JsonValueKind.Number:
                        users.Add(element.GetRawText());
                        break;
                    default:
                        return false;
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>Errors no endpoint expects: the reference answers 400 "Internal error"; an absent backend is 503.</summary>
public static class OcsErrors
{
    public static OcsAnswer Unexpected(RpcException error) => error.StatusCode switch
    {
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => OcsAnswer.Thrown(503, "Service temporarily unavailable, try again later"),
        StatusCode.Unauthenticated => OcsAnswer.Unauthorised(error.Status.Detail),
        _ => OcsAnswer.Thrown(400, "Internal error"),
    };
}
