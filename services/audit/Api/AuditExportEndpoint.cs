using System.Globalization;
using Keyward.Audit.Adapters;
using Keyward.AuditTrail;
using Keyward.CertificateAuthority.V1;
using Keyward.Common.Auth;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.Audit.Api;

/// <summary>
/// GET /v1/audit/export?from=N&amp;to=M: a range of the caller's tenant chain as NDJSON with its checkpoints and
/// the checkpoint public key, for offline verification. Streamed: memory stays flat however long the range.
/// </summary>
public static class AuditExportEndpoint
{
    public static void MapAuditExport(this WebApplication app)
    {
        app.MapGet("/v1/audit/export", async (HttpContext http, TenantContext caller, ChainStore chain, CaClient ca, long? from, long? to) =>
        {
            var ct = http.RequestAborted;
            var (head, _) = await chain.HeadAsync(caller.TenantId, ct);
            var first = from is null or <= 0 ? 1 : from.Value;
            var last = to is null or <= 0 ? head : Math.Min(to.Value, head);
            if (first > last + 1)
            {
                return Results.BadRequest(new { error = "invalid_range", message = $"the chain has {head} entries; ask for from ≤ to" });
            }

            var previous = await chain.HashAtAsync(caller.TenantId, first - 1, ct) ?? ChainHash.Genesis;
            var key = await ca.GetCheckpointKeyAsync(new GetCheckpointKeyRequest(), cancellationToken: ct);
            var checkpoints = (await chain.CheckpointsAsync(caller.TenantId, first, last, ct)).ToDictionary(c => c.Sequence);

            http.Response.ContentType = "application/x-ndjson; charset=utf-8";
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"audit-{caller.TenantId}-{first.ToString(CultureInfo.InvariantCulture)}-{last.ToString(CultureInfo.InvariantCulture)}.ndjson\"";
            await using var writer = new StreamWriter(http.Response.Body, new System.Text.UTF8Encoding(false), 64 * 1024);
            await writer.WriteLineAsync(AuditExport.Header(caller.TenantId, first, last, previous, key.PublicKeyPem, key.KeyId));
            await foreach (var entry in chain.RangeAsync(caller.TenantId, first, last, ct))
            {
                await writer.WriteLineAsync(AuditExport.Entry(entry.Sequence, entry.EventId, entry.Canonical, entry.PreviousHash, entry.Hash));
                if (checkpoints.TryGetValue(entry.Sequence, out var checkpoint))
                {
                    await writer.WriteLineAsync(AuditExport.CheckpointRecord(checkpoint.Sequence, checkpoint.Hash, checkpoint.SignedAt, checkpoint.Checkpoint, checkpoint.Signature, checkpoint.KeyId));
                }
            }

            await writer.FlushAsync(ct);
            return Results.Empty;
        }).RequireAuthorization(AuthenticationDefaults.AuditorPolicy);
    }
}
