namespace Keyward.Gateway.Api;

/// <summary>The E2EE OCS endpoints (reference §a.2–a.6), the key of <see cref="OcsRefusalTable"/>.</summary>
public enum OcsOperation
{
    GetPrivateKey,
    StorePrivateKey,
    DeletePrivateKey,
    CreateCertificate,
    StoreCertificate,
    GetCertificates,
    DeleteCertificate,
    GetServerKey,
    MarkEncrypted,
    UnmarkEncrypted,
    ResetEncryptedFiles,
    GetMetadata,
    CreateMetadata,
    UpdateMetadata,
    DeleteMetadata,
    AddFiledrop,
    LockFolder,
    UnlockFolder,
    Capabilities,
}
