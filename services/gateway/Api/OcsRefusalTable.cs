using Keyward.Common.V1;
using Keyward.Gateway.Core;
using static Keyward.Gateway.Api.OcsOperation;
using R = Keyward.Common.V1.RefusalReason;

namespace Keyward.Gateway.Api;

/// <summary>
/// The one table from a service's refusal to the reference server's answer for each OCS endpoint and API
/// version: status, error shape (thrown / returned / bare, §a.0) and message, as in
/// ../shared/reference/nextcloud-e2ee-api.md §a.2–a.6. Reasons are the generated proto enum, so a renamed or
/// removed reason does not compile. Refusals the table leaves out get the general answer for their kind.
/// </summary>
public static class OcsRefusalTable
{
    private const string VersionMessage = "Client version cannot handle the requested encryption version.";
    private const string NotLockedV1 = "You are not allowed to edit the file, make sure to first lock it, and then send the right token";

    public static OcsAnswer? Answer(OcsOperation operation, bool v1, string id, RefusalReason reason, string message) => (operation, reason, v1) switch
    {
        (GetPrivateKey, R.PrivateKeyNotFound, _) => OcsAnswer.Returned(404, "Could not find the private key"),
        (GetPrivateKey, R.NotAllowed, _) => OcsAnswer.Returned(403, "Not allowed to get private key"),
        (StorePrivateKey, R.PrivateKeyInvalid, _) => OcsAnswer.Thrown(400, "Invalid private key format"),
        (StorePrivateKey, R.KeyExists, _) => OcsAnswer.Bare(409),
        // A public share's key by someone who does not own the share (the reference answers its storage's 400 "Internal error").
        (StorePrivateKey, R.NotAllowed, _) => OcsAnswer.Thrown(403, message),
        (DeletePrivateKey, R.NotAllowed, _) => OcsAnswer.Thrown(403, "You are not allowed to delete this private key"),

        (CreateCertificate, R.KeyExists, _) => OcsAnswer.Bare(409),
        (CreateCertificate, R.CsrInvalid or R.KeyPolicy or R.RequestInvalid, _) => OcsAnswer.Thrown(400, message),
        (CreateCertificate, R.CnMismatch or R.NotAllowed, _) => OcsAnswer.Thrown(403, message),
        (StoreCertificate, R.KeyExists, _) => OcsAnswer.Bare(409),
        (StoreCertificate, R.CertificateInvalid or R.CnMismatch, _) => OcsAnswer.Thrown(400, message),
        (GetCertificates, R.CertificateNotFound, _) => OcsAnswer.Thrown(404, message),
        (GetCertificates, R.UserListInvalid, _) => OcsAnswer.Thrown(400, "Cannot decode userlist"),
        (DeleteCertificate, R.NotAllowed, _) => OcsAnswer.Thrown(403, "This is not your public key to delete"),

        (MarkEncrypted, R.FolderNotFound, _) => OcsAnswer.Returned(404, "Folder not found"),
        (MarkEncrypted, R.AccessDenied or R.FolderRegistered or R.FolderClaimed, _) => OcsAnswer.Returned(403, "You are not allowed to set the encryption flag on this folder"),
        (MarkEncrypted, R.FolderIdInvalid, _) => OcsAnswer.Returned(404, "Folder not found"),
        (UnmarkEncrypted, R.FolderNotFound or R.FolderIdInvalid, _) => OcsAnswer.Thrown(404, $"No folder with ID {id}"),
        (UnmarkEncrypted, R.FolderNotEmpty, _) => OcsAnswer.Thrown(404, $"Folder with ID {id} not empty"),
        (UnmarkEncrypted, R.AccessDenied, _) => OcsAnswer.Returned(403, "You are not allowed to remove the encryption flag on this folder"),
        (UnmarkEncrypted, R.Locked, _) => OcsAnswer.Returned(423, "File already locked"),

        (GetMetadata, R.FolderNotFound or R.MetadataNotFound or R.FolderIdInvalid, _) => OcsAnswer.Thrown(404, $"Could not find metadata for \"{id}\""),
        (GetMetadata, R.AccessDenied, true) => OcsAnswer.Thrown(403, "You are not allowed to access the metadata of this folder"),
        (GetMetadata, R.AccessDenied, false) => OcsAnswer.Returned(403, "You are not allowed to access the metadata of this folder"),

        (CreateMetadata or UpdateMetadata, R.SignatureMissing, _) => OcsAnswer.Returned(400, "x-nc-e2ee-signature is empty"),
        (CreateMetadata or UpdateMetadata, R.SignatureInvalid, _) => OcsAnswer.Returned(400, "x-nc-e2ee-signature is not valid base64"),
        (CreateMetadata or UpdateMetadata, R.MetadataInvalid, _) => OcsAnswer.Thrown(400, "Cannot store metadata"),
        // Not in the reference (it stores anything): the reason, so the client can say what it did wrong.
        (CreateMetadata or UpdateMetadata or AddFiledrop, R.MetadataRefused, _) => OcsAnswer.Thrown(400, message),
        (CreateMetadata or UpdateMetadata, R.SignatureRejected, _) => OcsAnswer.Thrown(400, "Invalid metadata signature"),
        (CreateMetadata or UpdateMetadata or DeleteMetadata, R.VersionUnsupported, _) => OcsAnswer.Thrown(403, VersionMessage),
        (CreateMetadata, R.TokenMissing, _) => OcsAnswer.Returned(400, "e2e-token is empty"),
        (CreateMetadata, R.AccessDenied or R.NotLocked, _) => OcsAnswer.Returned(403, "You are not allowed to set the metadata on this folder"),
        (CreateMetadata, R.MetadataExists, _) => OcsAnswer.Bare(409),
        (CreateMetadata or UpdateMetadata, R.FolderNotFound or R.FolderIdInvalid, _) => OcsAnswer.Thrown(404, $"Could not find metadata for \"{id}\""),
        (UpdateMetadata, R.TokenMissing or R.AccessDenied or R.NotLocked, true) => OcsAnswer.Thrown(403, NotLockedV1),
        (UpdateMetadata, R.TokenMissing, false) => OcsAnswer.Returned(400, "e2e-token is empty"),
        (UpdateMetadata, R.AccessDenied, false) => OcsAnswer.Returned(403, "You are not allowed to set the metadata on this folder"),
        (UpdateMetadata, R.NotLocked, false) => OcsAnswer.Returned(412, "Folder is not locked"),
        (UpdateMetadata, R.MetadataNotFound, _) => OcsAnswer.Thrown(404, "Metadata-file does not exist"),
        (DeleteMetadata, R.TokenMissing, _) => OcsAnswer.Returned(400, "e2e-token is empty"),
        (DeleteMetadata, R.AccessDenied, true) => OcsAnswer.Thrown(403, "Only the owner can delete the metadata-file"),
        (DeleteMetadata, R.AccessDenied, false) => OcsAnswer.Returned(403, "You are not allowed to delete the metadata of this folder"),
        (DeleteMetadata, R.NotLocked, _) => OcsAnswer.Returned(412, "Metadata is not locked"),
        (DeleteMetadata, R.Locked, _) => OcsAnswer.Thrown(403, "File already locked"),
        (DeleteMetadata, R.FolderNotFound or R.MetadataNotFound or R.FolderIdInvalid, _) => OcsAnswer.Thrown(404, $"Could not find metadata for \"{id}\""),
        (GetMetadata or LockFolder, R.VersionUnsupported, _) => OcsAnswer.Thrown(403, VersionMessage),

        (AddFiledrop, R.FiledropInvalid or R.FolderIdInvalid, _) => OcsAnswer.Thrown(400, "Cannot update filedrop"),
        (AddFiledrop, R.AccessDenied or R.FolderNotFound, _) => OcsAnswer.Returned(403, "You are not allowed to create the lock"),
        (AddFiledrop, R.Locked, _) => OcsAnswer.Thrown(412, "File already locked"),
        (AddFiledrop, R.MetadataNotFound, _) => OcsAnswer.Thrown(404, "Metadata-file does not exist"),

        (LockFolder, R.CounterMissing, _) => OcsAnswer.Returned(400, "X-NC-E2EE-COUNTER is missing in the request"),
        (LockFolder, R.AccessDenied or R.FolderNotFound or R.FolderIdInvalid, false) => OcsAnswer.Returned(403, "You are not allowed to create the lock"),
        (LockFolder, R.AccessDenied or R.FolderNotFound or R.FolderIdInvalid, true) => OcsAnswer.Thrown(403, "You are not allowed to create the lock"),
        (LockFolder, R.Locked, false) => OcsAnswer.Returned(423, "File already locked"),
        (LockFolder, R.Locked, true) => OcsAnswer.Thrown(403, "File already locked"),
        (LockFolder, R.CounterInvalid, _) => OcsAnswer.Returned(400, "X-NC-E2EE-COUNTER is too far above the current counter"),
        (LockFolder, R.CounterTooSmall, _) => OcsAnswer.Returned(412, "The provided counter is smaller than the current counter."),

        (UnlockFolder, R.TokenMissing, false) => OcsAnswer.Returned(400, "e2e-token is empty"),
        (UnlockFolder, R.TokenMissing or R.AccessDenied or R.FolderNotFound or R.NotLocked or R.FolderIdInvalid, true) => OcsAnswer.Thrown(403, "You are not allowed to remove the lock"),
        (UnlockFolder, R.AccessDenied or R.FolderNotFound or R.NotLocked or R.FolderIdInvalid, false) => OcsAnswer.Returned(403, "You are not allowed to remove the lock"),
        (UnlockFolder, R.LockNotFound, false) => OcsAnswer.Returned(404, "File not locked"),
        (UnlockFolder, R.LockNotFound, true) => OcsAnswer.Thrown(404, "File not locked"),
        _ => null,
    };

    /// <summary>
    /// The answer to a request whose parameters cannot be read (a broken form or multipart body, too many
    /// fields, a value or body over the endpoint's limit): the endpoint's own 400 in the reference.
    /// </summary>
    public static OcsAnswer Unreadable(OcsOperation operation) => operation switch
    {
        StorePrivateKey => OcsAnswer.Thrown(400, "Invalid private key format"),
        CreateCertificate => OcsAnswer.Thrown(400, "Could not parse the CSR, please make sure to submit a valid CSR"),
        StoreCertificate => OcsAnswer.Thrown(400, "Invalid public key format"),
        GetCertificates => OcsAnswer.Thrown(400, "Cannot decode userlist"),
        CreateMetadata or UpdateMetadata => OcsAnswer.Thrown(400, "Cannot store metadata"),
        DeleteMetadata => OcsAnswer.Thrown(400, "Cannot delete metadata"),
        GetMetadata => OcsAnswer.Thrown(400, "Cannot read metadata"),
        AddFiledrop => OcsAnswer.Thrown(400, "Cannot update filedrop"),
        _ => OcsAnswer.Thrown(400, "The request parameters cannot be read"),
    };
}
