using System.Text.Json;
using System.Text.Json.Nodes;
using Keyward.CertificateAuthority.V1;
using Keyward.Gateway.Core;
using Keyward.Keyserver.V1;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;
using KeysClient = Keyward.Keyserver.V1.Keyserver.KeyserverClient;

namespace Keyward.Gateway.Api;

/// <summary>
/// The Nextcloud key endpoints (reference §a.2) on top of the keyserver and the CA: same routes for API v1
/// and v2, both OCS flavors; refusals answered through <see cref="OcsRefusalTable"/>.
/// </summary>
public static class OcsKeyEndpoints
{
    private const string ShareTokenHeader = "x-nc-e2ee-share-token";

    public static void Map(RouteGroupBuilder api, OcsFlavor flavor, OcsLimits limits)
    {
        api.MapGet("/private-key", (HttpContext http, KeysClient keys) => OcsCall.RunAsync(http, flavor, OcsOperation.GetPrivateKey, gated: true, async () =>
        {
            // A public share's private key is asked for with its token in x-nc-e2ee-share-token (reference §a.2).
            var shareToken = http.Request.Headers[ShareTokenHeader].ToString();
            if (shareToken.Length > 0 && http.Features.Get<FrontDoorTenant>() is { } tenant)
            {
                await http.RequestServices.GetRequiredService<FrontDoorShares>().ForgetIfGoneAsync(tenant, shareToken, http.RequestAborted);
            }

            var key = await keys.GetPrivateKeyAsync(new GetPrivateKeyRequest { ShareToken = shareToken }, cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["private-key"] = key.PrivateKey_ });
        }));

        api.MapPost("/private-key", (HttpContext http, KeysClient keys) => OcsCall.RunAsync(http, flavor, OcsOperation.StorePrivateKey, gated: true, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            await RegisterShareAsync(http, parameters["shareToken"]);
            var stored = await keys.SetPrivateKeyAsync(new SetPrivateKeyRequest { PrivateKey = parameters["privateKey"] ?? "", ShareToken = parameters["shareToken"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["private-key"] = stored.PrivateKey_ });
        })).WithBodyLimits(limits.KeyBodyBytes);

        // Deleting is not gated by client (reference §a.0) and succeeds when nothing is stored (§a.2).
        api.MapDelete("/private-key", (HttpContext http, KeysClient keys) => OcsCall.RunAsync(http, flavor, OcsOperation.DeletePrivateKey, gated: false, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            await keys.DeletePrivateKeyAsync(new DeletePrivateKeyRequest { ShareToken = parameters["shareToken"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.OkEmpty();
        }));

        api.MapPost("/public-key", (HttpContext http, KeysClient keys) => OcsCall.RunAsync(http, flavor, OcsOperation.CreateCertificate, gated: true, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            await RegisterShareAsync(http, parameters["shareToken"]);
            var certificate = await keys.CreateCertificateAsync(new CreateCertificateRequest { CsrPem = parameters["csr"] ?? "", ShareToken = parameters["shareToken"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["public-key"] = certificate.CertificatePem });
        })).WithBodyLimits(limits.KeyBodyBytes);

        api.MapPut("/public-key", (HttpContext http, KeysClient keys) => OcsCall.RunAsync(http, flavor, OcsOperation.StoreCertificate, gated: true, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            var certificate = await keys.StoreCertificateAsync(new StoreCertificateRequest { CertificatePem = parameters["publicKey"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["public-key"] = certificate.CertificatePem });
        })).WithBodyLimits(limits.KeyBodyBytes);

        api.MapGet("/public-key", (HttpContext http, KeysClient keys) => OcsCall.RunAsync(http, flavor, OcsOperation.GetCertificates, gated: true, async () =>
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
        })).WithBodyLimits(limits.KeyBodyBytes);

        api.MapDelete("/public-key", (HttpContext http, KeysClient keys) => OcsCall.RunAsync(http, flavor, OcsOperation.DeleteCertificate, gated: false, async () =>
        {
            var parameters = await OcsParameters.ReadAsync(http.Request);
            await keys.DeleteCertificateAsync(new DeleteCertificateRequest { ShareToken = parameters["shareToken"] ?? "" }, cancellationToken: http.RequestAborted);
            return OcsAnswer.OkEmpty();
        }));

        api.MapGet("/server-key", (HttpContext http, CaClient ca) => OcsCall.RunAsync(http, flavor, OcsOperation.GetServerKey, gated: true, async () =>
        {
            var key = await ca.GetServerKeyAsync(new GetServerKeyRequest(), cancellationToken: http.RequestAborted);
            return OcsAnswer.Ok(new JsonObject { ["public-key"] = key.PublicKeyPem });
        }));
    }

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

    /// <summary>Through the front door, a share's keys come with the share as the instance knows it (see <see cref="FrontDoorShares"/>).</summary>
    private static Task RegisterShareAsync(HttpContext http, string? shareToken) =>
        !string.IsNullOrEmpty(shareToken) && http.Features.Get<FrontDoorCaller>() is { } caller
            ? http.RequestServices.GetRequiredService<FrontDoorShares>().RegisterIfOwnedAsync(caller, Common.Auth.TenantContext.FromPrincipal(http.User).UserId, shareToken, http.RequestAborted)
            : Task.CompletedTask;
}
