using Grpc.Core;
using Keyward.Gateway.Adapters;
using Keyward.Keyserver.V1;
using KeysClient = Keyward.Keyserver.V1.Keyserver.KeyserverClient;

namespace Keyward.Gateway.Api;

/// <summary>
/// Public-share keys (2.1) through the front door, fed to the share registry from what the instance says, not from
/// what the caller claims: when a share's owner sends its keys, the gateway finds the token among the caller's own link
/// shares on the instance and registers it (owner, node, permissions); when someone asks for a share's private key, the
/// gateway asks the instance whether the share still exists and, if it is gone, removes it with its keys.
/// </summary>
public sealed class FrontDoorShares(NextcloudInstance instance, DelegatedTokens tokens, KeysClient keys, ILogger<FrontDoorShares> logger)
{
    /// <summary>Registers the share when the instance lists it as the caller's; otherwise nothing (the keyserver then refuses the keys).</summary>
    public async Task RegisterIfOwnedAsync(FrontDoorCaller caller, string userId, string token, CancellationToken ct)
    {
        var shares = await instance.OwnSharesAsync(caller.Tenant, caller.InstanceCredentials, ct)
            ?? throw new RpcException(new Status(StatusCode.Unavailable, "the Nextcloud instance could not list the caller's shares"));
        if (shares.FirstOrDefault(s => s.Token == token) is not { } share || share.OwnerId != userId)
        {
            logger.LogInformation("Front door of {TenantId}: share keys for a token that is not a link share of {UserId}", caller.Tenant.TenantId, userId);
            return;
        }

        await keys.RegisterShareAsync(new RegisterShareRequest { Token = share.Token, OwnerId = share.OwnerId, NodeId = share.NodeId, Permissions = share.Permissions },
            AsInstance(caller.Tenant.TenantId), deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct);
    }

    /// <summary>Removes a share (and its keys) the instance no longer knows, before its private key is served.</summary>
    public async Task ForgetIfGoneAsync(Core.FrontDoorTenant tenant, string token, CancellationToken ct)
    {
        if (await instance.ShareExistsAsync(tenant, token, ct) != false)
        {
            return;
        }

        try
        {
            await keys.RemoveShareAsync(new RemoveShareRequest { Token = token }, AsInstance(tenant.TenantId), deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct);
            logger.LogInformation("Front door of {TenantId}: a share the instance no longer knows was removed with its keys", tenant.TenantId);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // Never registered, or already removed.
        }
    }

    private Grpc.Core.Metadata AsInstance(string tenantId) => new() { { "authorization", "Bearer " + tokens.ForInstance(tenantId) } };
}
