using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Keyward.Common.Errors;

/// <summary>
/// A refusal between services: a gRPC status code plus a machine-readable reason (google.rpc.ErrorInfo),
/// e.g. KEY_EXISTS or CN_MISMATCH, which the gateway maps to the exact OCS answer of the reference.
/// </summary>
public static class KeywardError
{
    public const string Domain = "keyward";

    public static RpcException Create(StatusCode code, string reason, string message, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var info = new ErrorInfo { Reason = reason, Domain = Domain };
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

    /// <summary>The reason of a Keyward refusal, or null when the error carries none.</summary>
    public static ErrorInfo? Info(this RpcException error) => error.GetRpcStatus()?.GetDetail<ErrorInfo>();

    public static string? Reason(this RpcException error) => error.Info()?.Reason;
}

/// <summary>The reasons Keyward services give; the gateway maps them to protocol answers.</summary>
public static class ErrorReasons
{
    public const string KeyExists = "KEY_EXISTS";
    public const string CsrInvalid = "CSR_INVALID";
    public const string CnMismatch = "CN_MISMATCH";
    public const string KeyPolicy = "KEY_POLICY";
    public const string CertificateInvalid = "CERTIFICATE_INVALID";
    public const string CertificateNotFound = "CERTIFICATE_NOT_FOUND";
    public const string PrivateKeyInvalid = "PRIVATE_KEY_INVALID";
    public const string PrivateKeyNotFound = "PRIVATE_KEY_NOT_FOUND";
    public const string HsmUnavailable = "HSM_UNAVAILABLE";
    public const string NotAllowed = "NOT_ALLOWED";
}
