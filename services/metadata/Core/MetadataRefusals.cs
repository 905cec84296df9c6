using Keyward.Common.Errors;
using Keyward.Common.V1;

namespace Keyward.Metadata.Core;

/// <summary>The refusals of the metadata service; the gateway maps each reason to the reference's OCS answer.</summary>
public static class MetadataRefusals
{
    public static Refusal FolderIdInvalid() => Refusal.Invalid(RefusalReason.FolderIdInvalid, "a folder id is 1 to 64 letters, digits, '-' or '_'");

    public static Refusal FolderNotFound(string id) => Refusal.NotFound(RefusalReason.FolderNotFound, $"folder {id} is not an encrypted folder");

    public static Refusal MetadataNotFound(string id) => Refusal.NotFound(RefusalReason.MetadataNotFound, $"folder {id} has no metadata");

    public static Refusal MetadataExists(string id) => Refusal.Exists(RefusalReason.MetadataExists, $"folder {id} already has metadata");

    public static Refusal AccessDenied(string id) => Refusal.Denied(RefusalReason.AccessDenied, $"the caller may not use folder {id}");

    public static Refusal Locked(string id) => Refusal.Precondition(RefusalReason.Locked, $"folder {id} is locked by another client");

    public static Refusal NotLocked(string id) => Refusal.Precondition(RefusalReason.NotLocked, $"the token does not hold a lock on folder {id}");

    public static Refusal LockNotFound(string id) => Refusal.NotFound(RefusalReason.LockNotFound, $"folder {id} itself is not locked");

    public static Refusal CounterMissing() => Refusal.Invalid(RefusalReason.CounterMissing, "the new metadata counter (X-NC-E2EE-COUNTER) is missing");

    public static Refusal CounterTooSmall(long stored) => Refusal.Precondition(RefusalReason.CounterTooSmall, $"the counter must be greater than {stored}");

    public static Refusal CounterTooLarge(long stored, long maxStep) =>
        Refusal.Invalid(RefusalReason.CounterInvalid, $"the counter may be at most {maxStep} above the current counter {stored}");

    public static Refusal FolderClaimed(string id) => Refusal.Denied(RefusalReason.FolderClaimed, $"folder id {id} belongs to another owner's encrypted tree");

    public static Refusal NotOwner(string id) => Refusal.Denied(RefusalReason.AccessDenied, $"only the owner of folder {id} (or an admin) may remove its encryption flag");

    public static Refusal NotOwnerOf(string id, string what) => Refusal.Denied(RefusalReason.AccessDenied, $"only the owner of folder {id} may {what}");

    public static Refusal TokenMissing() => Refusal.Invalid(RefusalReason.TokenMissing, "the lock token (e2e-token) is missing");

    public static Refusal SignatureMissing() => Refusal.Invalid(RefusalReason.SignatureMissing, "the metadata signature (X-NC-E2EE-SIGNATURE) is missing");

    public static Refusal SignatureInvalid() =>
        Refusal.Invalid(RefusalReason.SignatureInvalid, $"the metadata signature (X-NC-E2EE-SIGNATURE) must be base64 of at most {MetadataSignature.MaxLength} characters");

    public static Refusal MetadataInvalid() => Refusal.Invalid(RefusalReason.MetadataInvalid, $"metadata must be a JSON object of at most {MetadataDocument.MaxLength} characters");

    public static Refusal VersionUnsupported() => Refusal.Precondition(RefusalReason.VersionUnsupported, "API 1 cannot handle metadata 2.x");

    public static Refusal FolderNotEmpty(string id) => Refusal.Precondition(RefusalReason.FolderNotEmpty, $"folder {id} has encrypted sub-folders");

    public static Refusal FolderRegisteredElsewhere(string id) => Refusal.Exists(RefusalReason.FolderRegistered, $"folder {id} is already encrypted under another parent");

    /// <summary>v2 metadata that does not pass <see cref="MetadataValidation"/>: the reason goes to the client.</summary>
    public static Refusal MetadataRefused(string problem) => Refusal.Invalid(RefusalReason.MetadataRefused, $"Invalid metadata: {problem}");

    public static Refusal SignatureRejected(string problem) => Refusal.Invalid(RefusalReason.SignatureRejected, $"Invalid metadata signature: {problem}");

    public static Refusal TooManyFolderIds(int max) => Refusal.Invalid(RefusalReason.QueryInvalid, $"at most {max} folder ids at a time");

    public static Refusal PageInvalid(int max) => Refusal.Invalid(RefusalReason.QueryInvalid, $"before must be 0 or more, page_size 0 to {max}");

    public static Refusal VersionNotRestorable(string id, int number) =>
        Refusal.Precondition(RefusalReason.VersionNotFound, $"version {number} of folder {id} deleted the metadata: there is nothing to restore");

    public static Refusal FiledropInvalid() => Refusal.Invalid(RefusalReason.FiledropInvalid, "filedrop must be a JSON object of entries");

    public static Refusal NotLockHolder(string id) =>
        Refusal.Denied(RefusalReason.AccessDenied, $"only the user holding the lock on folder {id} may break it; an admin may force it with a reason");

    public static Refusal LockInUse(string id, TimeSpan idle, TimeSpan idleAfter) => Refusal.Precondition(RefusalReason.Locked,
        $"the lock on folder {id} was used {(int)idle.TotalSeconds} s ago; it may be broken once idle for {(int)idleAfter.TotalSeconds} s");

    public static Refusal ReasonRequired() =>
        Refusal.Invalid(RefusalReason.RequestInvalid, $"forcing a lock open needs a reason of 1 to {BreakLock.MaxReasonLength} printable characters");

    public static Refusal AdminOnly() => Refusal.Denied(RefusalReason.NotAllowed, "only an admin may force a lock open");

    public static Refusal VersionNotFound(string id, int number) => Refusal.NotFound(RefusalReason.VersionNotFound, $"folder {id} has no version {number}");
}
