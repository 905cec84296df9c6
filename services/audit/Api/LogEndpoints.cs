using System.Globalization;
using Keyward.Audit.Adapters;
using Keyward.Audit.Core;
using Keyward.AuditTrail;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Keyward.Transparency;

namespace Keyward.Audit.Api;

/// <summary>
/// The logs over plain HTTP, for clients, witnesses and tools: checkpoints as C2SP signed notes (text/plain),
/// inclusion and consistency proofs (JSON, hashes in base64), key-transparency entries of a user, cosignatures
/// from witnesses, and the export. The audit trail is for auditors and admins; key transparency for every user
/// of the tenant (a client checks other users' certificates when it shares with them).
/// </summary>
public static class LogEndpoints
{
    public const string WitnessRole = "witness";

    public static void MapLogEndpoints(this WebApplication app)
    {
        var audit = app.MapGroup("/v1/audit").RequireAuthorization(AuthenticationDefaults.AuditorPolicy);
        MapLog(audit, LogOrigins.AuditLog);
        audit.MapGet("/export", ExportAsync);

        var keys = app.MapGroup("/v1/keys/transparency").RequireAuthorization();
        MapLog(keys, LogOrigins.KeysLog);
        keys.MapGet("/entries", async (KeyTransparency transparency, string? user, long? after, HttpContext http) =>
        {
            var (size, checkpoint, entries) = await transparency.EntriesOfAsync(user ?? "", after ?? -1, http.RequestAborted);
            return Results.Json(new
            {
                user = user ?? "",
                treeSize = size,
                checkpoint,
                entries = entries.Select(e => new { index = e.Index, entry = e.Entry, hashes = e.Hashes.Select(Convert.ToBase64String) }),
            });
        });

        foreach (var (prefix, log) in new[] { ("/v1/audit", LogOrigins.AuditLog), ("/v1/keys/transparency", LogOrigins.KeysLog) })
        {
            app.MapPost($"{prefix}/cosignatures", async (Witnesses witnesses, long size, HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                var line = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
                if (line.Length > 1024)
                {
                    throw Refusal.Invalid(RefusalReason.CheckpointInvalid, "a cosignature line has at most 1024 characters");
                }

                await witnesses.AddAsync(log, size, line, request.HttpContext.RequestAborted);
                return Results.NoContent();
            }).RequireAuthorization(p => p.RequireRole(WitnessRole));
        }
    }

    private static void MapLog(RouteGroupBuilder group, string log)
    {
        group.MapGet("/checkpoint", async (LogProofs proofs, HttpContext http) =>
            await proofs.CheckpointAsync(log, http.RequestAborted) is { } checkpoint
                ? Results.Text(checkpoint.Note, "text/plain; charset=utf-8")
                : Results.NotFound(new { error = "QUERY_INVALID", message = "the log has no signed checkpoint yet" }));

        group.MapGet("/proof", async (LogProofs proofs, long? index, long? size, long? from, long? to, HttpContext http) =>
        {
            if (index is { } leaf)
            {
                var proof = await proofs.InclusionAsync(log, leaf, size, http.RequestAborted);
                return Results.Json(new
                {
                    index = proof.Index,
                    treeSize = proof.TreeSize,
                    leafHash = Convert.ToBase64String(proof.LeafHash),
                    hashes = proof.Hashes.Select(Convert.ToBase64String),
                    checkpoint = proof.Checkpoint,
                });
            }

            if (from is { } first)
            {
                var proof = await proofs.ConsistencyAsync(log, first, to, http.RequestAborted);
                return Results.Json(new { from = proof.From, to = proof.To, hashes = proof.Hashes.Select(Convert.ToBase64String), checkpoint = proof.Checkpoint });
            }

            throw Refusal.Invalid(RefusalReason.QueryInvalid, "ask for ?index=N (inclusion) or ?from=M[&to=N] (consistency)");
        });
    }

    /// <summary>
    /// GET /v1/audit/export?from=N&amp;to=M: leaves [N, M) of the audit log (default: up to the newest checkpoint, so
    /// everything exported is signed) with the checkpoints among them, as NDJSON, streamed.
    /// </summary>
    private static async Task<IResult> ExportAsync(HttpContext http, TenantContext caller, LogStore store, ILogKeys keys, TransparencyOptions transparency, long? from, long? to)
    {
        var ct = http.RequestAborted;
        const string Log = LogOrigins.AuditLog;
        var head = (await store.HeadAsync(caller.TenantId, Log, ct))?.Size ?? 0;
        var signed = (await store.LastCheckpointAsync(caller.TenantId, Log, ct))?.Size ?? 0;
        var first = from is null or < 0 ? 0 : from.Value;
        var last = to is null or <= 0 ? signed : Math.Min(to.Value, head);
        if (first > last)
        {
            return Results.BadRequest(new { error = "QUERY_INVALID", message = $"the log has {head} leaves ({signed} signed); ask for from ≤ to" });
        }

        var keyPem = await keys.PublicKeyPemAsync(ct);
        var origin = LogOrigins.For(transparency.OriginPrefix, caller.TenantId, Log);
        var edge = await EdgeAsync(store.Nodes(caller.TenantId, Log), first, ct);
        var checkpoints = (await store.CheckpointsAsync(caller.TenantId, Log, first + 1, last, ct)).ToDictionary(c => c.Size);

        http.Response.ContentType = "application/x-ndjson; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"audit-{caller.TenantId}-{first.ToString(CultureInfo.InvariantCulture)}-{last.ToString(CultureInfo.InvariantCulture)}.ndjson\"";
        await using var writer = new StreamWriter(http.Response.Body, new System.Text.UTF8Encoding(false), 64 * 1024);
        await writer.WriteLineAsync(AuditExport.Header(origin, first, last, edge, keyPem, EcdsaNoteVerifier.FromPem(origin, keyPem).Fingerprint));
        await foreach (var leaf in store.LeavesAsync(caller.TenantId, Log, first, last, ct))
        {
            await writer.WriteLineAsync(AuditExport.Leaf(leaf.Index, leaf.Data));
            if (checkpoints.TryGetValue(leaf.Index + 1, out var checkpoint))
            {
                await writer.WriteLineAsync(AuditExport.CheckpointRecord(checkpoint.Size, checkpoint.Note));
            }
        }

        await writer.FlushAsync(ct);
        return Results.Empty;
    }

    private static async Task<byte[]> EdgeAsync(ILogNodes nodes, long size, CancellationToken ct)
    {
        var edge = CompactRange.EdgeOf(size).ToList();
        if (edge.Count == 0)
        {
            return [];
        }

        var found = await nodes.ReadAsync(edge, ct);
        return edge.SelectMany(n => found[n]).ToArray();
    }
}
