using System.Globalization;
using Grpc.Core;
using Keyward.Audit.Core;
using Keyward.Audit.V1;
using Keyward.Common.Auth;
using Keyward.Common.V1;
using Microsoft.AspNetCore.Authorization;

namespace Keyward.Audit.Api;

/// <summary>gRPC face of the audit trail: request → use case (Core/) → reply, for auditors and admins of the caller's own tenant.</summary>
public sealed class AuditServiceApi(TenantContext caller, AuditQueries queries) : AuditService.AuditServiceBase
{
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(AuditSetup.ServiceName));

    [Authorize(Policy = AuthenticationDefaults.AuditorPolicy)]
    public override async Task<QueryEventsResponse> QueryEvents(QueryEventsRequest request, ServerCallContext context)
    {
        var page = await queries.QueryAsync(new EntryQuery(request.Actor, request.ActionPrefix, request.TargetType, request.TargetId, request.Outcome,
            request.FromTime, request.ToTime, request.Cursor, request.PageSize, request.Descending), context.CancellationToken);
        var response = new QueryEventsResponse { NextCursor = page.NextCursor ?? "" };
        response.Entries.AddRange(page.Entries.Select(e => new AuditEntry
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
        return response;
    }

    [Authorize(Policy = AuthenticationDefaults.AuditorPolicy)]
    public override async Task<VerifyResponse> Verify(VerifyRequest request, ServerCallContext context)
    {
        var outcome = await queries.VerifyAsync(request.FromSequence, request.ToSequence, request.LogKeyFingerprint, context.CancellationToken);
        return new VerifyResponse
        {
            Status = outcome.Valid ? "VALID" : "BROKEN",
            FromSequence = outcome.FromSequence,
            ToSequence = outcome.ToSequence,
            EntriesChecked = outcome.EntriesChecked,
            CheckpointsChecked = outcome.CheckpointsChecked,
            FirstBrokenSequence = outcome.FirstBrokenSequence,
            Reason = outcome.Reason,
            KeyFingerprint = outcome.KeyFingerprint,
            KeyPinned = outcome.KeyPinned,
        };
    }

    [Authorize(Policy = AuthenticationDefaults.AuditorPolicy)]
    public override async Task<ChainHead> GetHead(GetHeadRequest request, ServerCallContext context)
    {
        var (sequence, hash, lastCheckpoint) = await queries.HeadAsync(context.CancellationToken);
        return new ChainHead { Sequence = sequence, Hash = Convert.ToHexStringLower(hash), LastCheckpointSequence = lastCheckpoint };
    }
}
