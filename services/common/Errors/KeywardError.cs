using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Keyward.Common.V1;

namespace Keyward.Common.Errors;

/// <summary>
/// A refusal between services on the wire: a gRPC status code plus google.rpc.ErrorInfo whose reason names a
/// <see cref="RefusalReason"/> (e.g. KEY_EXISTS), which the gateway maps to the exact OCS answer of the reference.
/// </summary>
public static class KeywardError
{
    public const string Domain = "keyward";

    public const string CorrelationIdKey = "correlation_id";

    public static RpcException Create(StatusCode code, RefusalReason reason, string message, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var info = new ErrorInfo { Reason = RefusalReasons.Name(reason), Domain = Domain };
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                info.Metadata[key] = value;
            }
        }

        var status = new Google.Rpc.Status { Code = (int)code, Message = message, Details = { Any.Pack(info) } };
        return status.ToRpcException();
    }

    /// <summary>The status a refusal of this kind travels with.</summary>
    public static StatusCode StatusOf(RefusalKind kind) => kind switch
    {
        RefusalKind.InvalidArgument => StatusCode.InvalidArgument,
        RefusalKind.NotFound => StatusCode.NotFound,
        RefusalKind.AlreadyExists => StatusCode.AlreadyExists,
        RefusalKind.PermissionDenied => StatusCode.PermissionDenied,
        RefusalKind.FailedPrecondition => StatusCode.FailedPrecondition,
        RefusalKind.Exhausted => StatusCode.ResourceExhausted,
        _ => StatusCode.Internal,
    };

    public static RpcException ToRpcException(this Refusal refusal) => Create(StatusOf(refusal.Kind), refusal.Reason, refusal.Message, refusal.Details);

    /// <summary>The ErrorInfo of a Keyward error, or null when the error carries none.</summary>
    public static ErrorInfo? Info(this RpcException error) => error.GetRpcStatus()?.GetDetail<ErrorInfo>();

    /// <summary>
    /// Why a call was refused. A permission refusal without a Keyward reason comes from the authorization
    /// layer (a role is missing) and counts as <see cref="RefusalReason.NotAllowed"/>.
    /// </summary>
    public static RefusalReason Reason(this RpcException error) =>
        error.Info() is { Domain: Domain } info ? RefusalReasons.Parse(info.Reason)
        : error.StatusCode == StatusCode.PermissionDenied ? RefusalReason.NotAllowed
        : RefusalReason.Unspecified;

    /// <summary>
    /// A refusal received from another Keyward service, to pass on as this service's own (the CA's CSR_INVALID
    /// answered by the keyserver); null for errors that are not refusals.
    /// </summary>
    public static Refusal? AsRefusal(this RpcException error)
    {
        var kind = error.StatusCode switch
        {
            StatusCode.InvalidArgument => RefusalKind.InvalidArgument,
            StatusCode.NotFound => RefusalKind.NotFound,
            StatusCode.AlreadyExists => RefusalKind.AlreadyExists,
            StatusCode.PermissionDenied => RefusalKind.PermissionDenied,
            StatusCode.FailedPrecondition => RefusalKind.FailedPrecondition,
            StatusCode.ResourceExhausted => RefusalKind.Exhausted,
            _ => (RefusalKind?)null,
        };
        return kind is { } k ? new Refusal(k, error.Reason(), error.Status.Detail, error.Info()?.Metadata.ToDictionary(m => m.Key, m => m.Value)) : null;
    }
}
