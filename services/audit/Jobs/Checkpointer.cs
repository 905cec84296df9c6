using Grpc.Core;
using Keyward.Audit.Adapters;
using Keyward.Audit.Core;
using Keyward.AuditTrail;
using Keyward.CertificateAuthority.V1;
using Keyward.Common.Auth;
using Microsoft.Extensions.Options;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.Audit.Jobs;

/// <summary>
/// Has the tenant's chain head signed by the tenant's HSM checkpoint key (through the certificate
/// authority, as the service) every N entries or T seconds. A CA that is away only delays the next
/// checkpoint; the chain itself never waits for it.
/// </summary>
public sealed class Checkpointer(ChainStore chain, CaClient ca, ServiceTokens tokens, IOptions<CheckpointOptions> options, TimeProvider clock, ILogger<Checkpointer> logger)
{
    public async Task SignIfDueAsync(string tenantId, long headSequence, byte[] headHash, CancellationToken cancellationToken)
    {
        if (!tokens.CanMint)
        {
            // Without the service identity's private key there is no way to ask the CA; the chain goes on unsigned.
            return;
        }

        var last = await chain.LastCheckpointAsync(tenantId, cancellationToken);
        if (!CheckpointOptions.IsDue(headSequence, last?.Sequence ?? 0, last?.SignedAt, clock.GetUtcNow(), options.Value))
        {
            return;
        }

        await SignAsync(tenantId, headSequence, headHash, cancellationToken);
    }

    public async Task SignAsync(string tenantId, long sequence, byte[] hash, CancellationToken cancellationToken)
    {
        var checkpoint = new Checkpoint(tenantId, sequence, hash, clock.GetUtcNow());
        var bytes = checkpoint.ToBytes();
        try
        {
            var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {tokens.For(tenantId)}" } };
            var signed = await ca.SignCheckpointAsync(new SignCheckpointRequest { Checkpoint = Google.Protobuf.ByteString.CopyFrom(bytes) }, headers,
                deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken);
            await chain.AddCheckpointAsync(tenantId, new StoredCheckpoint(sequence, hash, checkpoint.SignedAt, bytes, signed.Signature.ToByteArray(), signed.KeyId), cancellationToken);
        }
        catch (RpcException e)
        {
            logger.LogWarning("Checkpoint of tenant {TenantId} at {Sequence} not signed yet: {Status}", tenantId, sequence, e.StatusCode);
        }
    }
}

/// <summary>Signs checkpoints for chains that got entries but no new ones for a while (the "every T seconds" half).</summary>
public sealed class CheckpointTimer(ChainStore chain, Checkpointer checkpointer, IOptions<CheckpointOptions> options, ILogger<CheckpointTimer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(200).Ticks, options.Value.EveryInterval.Ticks / 2));
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var tenant in await chain.TenantsWithUnsignedEntriesAsync(stoppingToken))
                {
                    var (sequence, hash) = await chain.HeadAsync(tenant, stoppingToken);
                    await checkpointer.SignIfDueAsync(tenant, sequence, hash, stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Checkpoint sweep failed: {Reason}", e.Message);
            }
        }
    }
}
