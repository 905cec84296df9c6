using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Keyward.Audit.Adapters;
using Keyward.AuditTrail;
using Keyward.CertificateAuthority.V1;
using Keyward.Common.Auth;
using Keyward.Transparency;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.Audit.Jobs;

/// <summary>
/// Has each log's new head signed by the tenant's HSM log key (through the CA) as soon as it is integrated: the
/// consumer pokes the log after its commit, pokes for one log coalesce while a signature is under way, so the
/// unsigned tail is what arrived during one CA round trip. The request carries a consistency proof from the last
/// signed head; the CA refuses a tree that does not extend it. Replicas take turns per log. A CA that is away only delays the checkpoint.
/// </summary>
public sealed class CheckpointSigner(LogStore store, CaClient ca, ServiceTokens tokens, TransparencyOptions transparency, TimeProvider clock, ILogger<CheckpointSigner> logger)
    : BackgroundService
{
    private readonly Channel<(string TenantId, string Log)> _pokes = Channel.CreateUnbounded<(string, string)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<(string, string), byte> _queued = new();
    private readonly ConcurrentDictionary<(string, string), DateTimeOffset> _retryAt = new();

    public void Poke(string tenantId, string log)
    {
        if (_queued.TryAdd((tenantId, log), 0))
        {
            _pokes.Writer.TryWrite((tenantId, log));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!tokens.CanMint)
        {
            logger.LogWarning("No service identity key: checkpoints are not signed, the logs grow unsigned");
            return;
        }

        _ = RetryLoopAsync(stoppingToken);
        await foreach (var (tenant, log) in _pokes.Reader.ReadAllAsync(stoppingToken))
        {
            _queued.TryRemove((tenant, log), out _);
            try
            {
                await SignAsync(tenant, log, stoppingToken);
                _retryAt.TryRemove((tenant, log), out _);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                var tampered = e is TreeNotExtendedException;
                logger.Log(tampered ? LogLevel.Error : LogLevel.Warning,
                    "Checkpoint of {TenantId}/{Log} not signed yet: {Reason}", tenant, log, e is RpcException rpc ? rpc.Status.Detail : e.Message);
                _retryAt[(tenant, log)] = clock.GetUtcNow() + (tampered ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>Logs left unsigned by a restart, another replica or an away CA are picked up here.</summary>
    private async Task RetryLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        var nextSweep = DateTimeOffset.MinValue;
        do
        {
            try
            {
                if (clock.GetUtcNow() >= nextSweep)
                {
                    foreach (var (tenant, log) in await store.UnsignedLogsAsync(stoppingToken))
                    {
                        _retryAt.TryAdd((tenant, log), clock.GetUtcNow());
                    }

                    nextSweep = clock.GetUtcNow().AddSeconds(30);
                }

                foreach (var ((tenant, log), at) in _retryAt)
                {
                    if (at <= clock.GetUtcNow())
                    {
                        Poke(tenant, log);
                    }
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Checkpoint sweep failed: {Reason}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task SignAsync(string tenantId, string log, CancellationToken ct)
    {
        // Replicas sign one log in turn: the head and the last checkpoint read below include what the one before stored.
        await using var turn = await store.SigningTurnAsync(tenantId, log, ct);
        var head = await store.HeadAsync(tenantId, log, ct);
        var last = await store.LastCheckpointAsync(tenantId, log, ct);
        if (head is null || last is not null && last.Size >= head.Size)
        {
            return;
        }

        var origin = LogOrigins.For(transparency.OriginPrefix, tenantId, log);
        var body = new TreeHead(origin, head.Size, head.Root).ToBody();
        var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {tokens.For(tenantId)}" } };
        var from = last?.Size ?? 0;
        for (var attempt = 0; ; attempt++)
        {
            var request = new SignTreeHeadRequest { Checkpoint = body };
            request.ConsistencyProof.AddRange((await MerkleProofs.ConsistencyAsync(store.Nodes(tenantId, log), from, head.Size, ct)).Select(ByteString.CopyFrom));
            try
            {
                var signed = await ca.SignTreeHeadAsync(request, headers, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct);
                await store.AddCheckpointAsync(tenantId, log, head.Size, signed.SignedNote, ct);
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && attempt == 0)
            {
                // Our last checkpoint is not the CA's (another replica signed, or rows went missing): prove from the CA's.
                var latest = await ca.GetLatestTreeHeadAsync(new GetLatestTreeHeadRequest { Origin = origin }, headers, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct);
                if (latest.Size > head.Size)
                {
                    throw new TreeNotExtendedException($"the CA signed size {latest.Size} for {origin}, the log has only {head.Size} leaves: its tail was removed or its state moved back");
                }

                from = latest.Size;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                throw new TreeNotExtendedException($"the CA refuses to sign {origin} at size {head.Size}: {e.Status.Detail}");
            }
        }
    }
}

/// <summary>The log no longer extends what was signed: someone changed it behind the service.</summary>
public sealed class TreeNotExtendedException(string message) : Exception(message);
