using Grpc.Core;
using Keyward.Common.Errors;

namespace Keyward.Metadata.Domain;

/// <summary>The refusals of the metadata service; the gateway maps each reason to the reference's OCS answer.</summary>
public static class MetadataErrors
{
    public static RpcException FolderIdInvalid() => Error(StatusCode.InvalidArgument, "FOLDER_ID_INVALID", "a folder id is 1 to 64 letters, digits, '-' or '_'");

    public static RpcException FolderNotFound(string id) => Error(StatusCode.NotFound, "FOLDER_NOT_FOUND", $"folder {id} is not an encrypted folder");

    public static RpcException MetadataNotFound(string id) => Error(StatusCode.NotFound, "METADATA_NOT_FOUND", $"folder {id} has no metadata");

    public static RpcException MetadataExists(string id) => Error(StatusCode.AlreadyExists, "METADATA_EXISTS", $"folder {id} already has metadata");

    public static RpcException AccessDenied(string id) => Error(StatusCode.PermissionDenied, "ACCESS_DENIED", $"the caller may not use folder {id}");

    public static RpcException Locked(string id) => Error(StatusCode.FailedPrecondition, "LOCKED", $"folder {id} is locked by another client");

    public static RpcException NotLocked(string id) => Error(StatusCode.FailedPrecondition, "NOT_LOCKED", $"the token does not hold a lock on folder {id}");

    public static RpcException LockNotFound(string id) => Error(StatusCode.NotFound, "LOCK_NOT_FOUND", $"folder {id} itself is not locked");

    public static RpcException CounterMissing() => Error(StatusCode.InvalidArgument, "COUNTER_MISSING", "the new metadata counter (X-NC-E2EE-COUNTER) is missing");

    public static RpcException CounterTooSmall(long stored) => Error(StatusCode.FailedPrecondition, "COUNTER_TOO_SMALL", $"the counter must be greater than {stored}");

    public static RpcException TokenMissing() => Error(StatusCode.InvalidArgument, "TOKEN_MISSING", "the lock token (e2e-token) is missing");

    public static RpcException SignatureMissing() => Error(StatusCode.InvalidArgument, "SIGNATURE_MISSING", "the metadata signature (X-NC-E2EE-SIGNATURE) is missing");

    public static RpcException MetadataInvalid() => Error(StatusCode.InvalidArgument, "METADATA_INVALID", $"metadata must be a JSON object of at most {MetadataDocument.MaxLength} characters");

    public static RpcException VersionUnsupported() => Error(StatusCode.FailedPrecondition, "VERSION_UNSUPPORTED", "API 1 cannot handle metadata 2.x");

    public static RpcException FolderNotEmpty(string id) => Error(StatusCode.FailedPrecondition, "FOLDER_NOT_EMPTY", $"folder {id} has encrypted sub-folders");

    public static RpcException FolderRegisteredElsewhere(string id) => Error(StatusCode.AlreadyExists, "FOLDER_REGISTERED", $"folder {id} is already encrypted under another parent");

    public static RpcException FiledropInvalid() => Error(StatusCode.InvalidArgument, "FILEDROP_INVALID", "filedrop must be a JSON object of entries");

    public static RpcException VersionNotFound(string id, int number) => Error(StatusCode.NotFound, "VERSION_NOT_FOUND", $"folder {id} has no version {number}");

    private static RpcException Error(StatusCode code, string reason, string message) => KeywardError.Create(code, reason, message);
}
