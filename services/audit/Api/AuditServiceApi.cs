using System.Globalization;
using Grpc.Core;
using Keyward.Audit.Storage;
using Keyward.Audit.V1;
using Keyward.AuditTrail;
using Keyward.CertificateAuthority.V1;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Microsoft.AspNetCore.Authorization;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.Audit.Api;

/// <summary>The audit trail of the caller's own tenant, for auditors and admins.</summary>
public sealed class AuditServiceApi(TenantContext caller, ChainStore chain, CaClient ca) : AuditService.AuditServiceBase
{
    private const int MaxPageSize = 1000;

    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(AuditSetup.ServiceName));

    [Authorize(Policy = AuthenticationDefaults.AuditorPolicy)]
    public override async Task<QueryEventsResponse> QueryEvents(QueryEventsRequest request, ServerCallContext context)
    {
        var pageSize = request.PageSize switch { <= 0 => 100, > MaxPageSize => MaxPageSize, var n => n };
        long? after = null;
        if (!string.IsNullOrEmpty(request.Cursor))
        {
            after = long.TryParse(request.Cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var cursor)
                ? cursor
                : throw Invalid("cursor is not one this service gave out");
        }

        var filter = new EntryFilter(Text(request.Actor), Text(request.ActionPrefix), Text(request.TargetType), Text(request.TargetId), Outcome(request.Outcome),
            Time(request.FromTime, "from_time"), Time(request.ToTime, "to_time"), after, pageSize, request.Descending);
        var entries = await chain.QueryAsync(caller.TenantId, filter, context.CancellationToken);
        var response = new QueryEventsResponse();
        response.Entries.AddRange(entries.Take(pageSize).Select(e => new AuditEntry
        {
            Sequence = e.Sequence,
            EventId = e.EventId.ToString("D"),
            OccurredAt = e.OccurredAt.ToString("O", CultureInfo.InvariantCulture),
            Action = e.Action,
            Actor = e.Actor,
            TargetType = e.TargetType,
            TargetId = e.TargetId,
            Outcome = e.Outcome,
            Reason = e.Reason ?? "",
            Service = e.Service,
            Event = e.Event,
            Hash = e.Hash,
        }));
        if (entries.Count > pageSize)
        {
            response.NextCursor = entries[pageSize - 1].Sequence.ToString(CultureInfo.InvariantCulture);
        }

        return response;
    }

    [Authorize(Policy = AuthenticationDefaults.AuditorPolicy)]
    public override async Task<VerifyResponse> Verify(VerifyRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var (headSequence, _) = await chain.HeadAsync(caller.TenantId, ct);
        var from = request.FromSequence <= 0 ? 1 : request.FromSequence;
        var to = request.ToSequence <= 0 ? headSequence : Math.Min(request.ToSequence, headSequence);
        if (from > to)
        {
            return new VerifyResponse { Status = "VALID", FromSequence = from, ToSequence = to, Reason = "the range holds no entries" };
        }

        var previous = await chain.HashAtAsync(caller.TenantId, from - 1, ct);
        if (previous is null)
        {
            return Broken(from - 1, "the entry before the range is missing", from, to, 0, 0);
        }

        var checkpoints = (await chain.CheckpointsAsync(caller.TenantId, from, to, ct)).ToDictionary(c => c.Sequence);
        var key = checkpoints.Count == 0 ? null : (await ca.GetCheckpointKeyAsync(new GetCheckpointKeyRequest(), cancellationToken: ct)).PublicKeyPem;
        using var verifier = new ChainVerifier(caller.TenantId, from, previous, key);
        await foreach (var entry in chain.RangeAsync(caller.TenantId, from, to, ct))
        {
            if (!verifier.Entry(entry.Sequence, entry.Canonical, entry.PreviousHash, entry.Hash))
            {
                break;
            }

            if (checkpoints.TryGetValue(entry.Sequence, out var checkpoint)
                && !verifier.CheckpointAt(entry.Sequence, verifier.RunningHash, checkpoint.Checkpoint, checkpoint.Signature))
            {
                break;
            }
        }

        if (verifier.Break is null && verifier.Entries != to - from + 1)
        {
            return Broken(from + verifier.Entries, $"entry {from + verifier.Entries} is missing", from, to, verifier.Entries, verifier.Checkpoints);
        }

        return verifier.Break is { } broken
            ? Broken(broken.Sequence, broken.Reason, from, to, verifier.Entries, verifier.Checkpoints)
            : new VerifyResponse { Status = "VALID", FromSequence = from, ToSequence = to, EntriesChecked = verifier.Entries, CheckpointsChecked = verifier.Checkpoints };
    }

    [Authorize(Policy = AuthenticationDefaults.AuditorPolicy)]
    public override async Task<ChainHead> GetHead(GetHeadRequest request, ServerCallContext context)
    {
        var (sequence, hash) = await chain.HeadAsync(caller.TenantId, context.CancellationToken);
        var last = await chain.LastCheckpointAsync(caller.TenantId, context.CancellationToken);
        return new ChainHead { Sequence = sequence, Hash = Convert.ToHexStringLower(hash), LastCheckpointSequence = last?.Sequence ?? 0 };
    }

    private static VerifyResponse Broken(long sequence, string reason, long from, long to, long entries, long checkpoints) => new()
    {
        Status = "BROKEN",
        FirstBrokenSequence = sequence,
        Reason = reason,
        FromSequence = from,
        ToSequence = to,
        EntriesChecked = entries,
        CheckpointsChecked = checkpoints,
    };

    private static string? Text(string value) => string.IsNullOrEmpty(value) ? null : value;

    private static string? Outcome(string value) => value switch
    {
        "" => null,
        "success" or "denied" or "failed" => value,
        _ => throw Invalid("outcome must be success, denied or failed"),
    };

    private static DateTimeOffset? Time(string value, string name) =>
        string.IsNullOrEmpty(value) ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time
        : throw Invalid($"{name} must be an ISO-8601 time");

    private static RpcException Invalid(string message) => KeywardError.Create(StatusCode.InvalidArgument, "QUERY_INVALID", message);
}
