using Keyward.Common.Audit;

namespace Keyward.Keyserver.Core;

/// <summary>Where the keyserver's documents live (certificates, private-key blobs, device requests, recovery); keyed by id within the tenant.</summary>
public interface IKeyStore
{
    /// <summary>Runs <paramref name="change"/> as one transaction; a second <see cref="IKeyChange.Insert{T}"/> of an id fails it with <see cref="KeyAlreadyStoredException"/>.</summary>
    Task<T> ChangeAsync<T>(Func<IKeyChange, Task<T>> change, CancellationToken cancellationToken);

    Task<T?> LoadAsync<T>(string id, CancellationToken cancellationToken) where T : class;

    Task<IReadOnlyList<StoredCertificate>> CertificatesAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredDeviceRequest>> PendingDeviceRequestsAsync(string userId, DateTimeOffset now, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredRecoveryChange>> OpenRecoveryChangesAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>An approved, unexpired release of <paramref name="userId"/>'s escrow copy, if there is one.</summary>
    Task<StoredRecoveryChange?> ApprovedReleaseAsync(string userId, DateTimeOffset now, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredEscrowRelease>> EscrowReleasesAsync(string userId, CancellationToken cancellationToken);

    /// <summary>Every public share registered for the tenant.</summary>
    Task<IReadOnlyList<PublicShare>> SharesAsync(CancellationToken cancellationToken);

    /// <summary>What the capabilities answer needs about a user, in one read.</summary>
    Task<KeyStatusFacts> StatusAsync(string userId, CancellationToken cancellationToken);
}

public interface IKeyChange
{
    Task<T?> LoadAsync<T>(string id, CancellationToken cancellationToken) where T : class;

    void Insert<T>(T document) where T : class;

    void Store<T>(T document) where T : class;

    void Delete<T>(string id) where T : class;

    void Record(AuditRecord record);

    /// <summary>Commits events another service recorded (the CA's, each with its receipt) as they are.</summary>
    void Carry(IReadOnlyList<Keyward.AuditTrail.AuditEvent> events);

    Task CommitAsync(CancellationToken cancellationToken);
}

/// <summary>Another request stored a document under the same id first.</summary>
public sealed class KeyAlreadyStoredException(Exception inner) : Exception("a document with this id is already stored", inner);

public sealed record KeyStatusFacts(bool HasCertificate, bool HasPrivateKey, bool RecoveryEnabled, bool HasEscrow);

/// <summary>
/// The tenant CA as the keyserver uses it, as the service identity: the keyserver alone says for which user, and only
/// ever for the user it authenticated (or, on an admin's re-issue, for the stored certificate's own user). Its
/// refusals arrive as <see cref="Common.Errors.Refusal"/>s.
/// </summary>
public interface ICertificateSigner
{
    /// <summary>Signs <paramref name="userId"/>'s CSR; the CA checks that its CN is that user.</summary>
    Task<SignedCertificate> SignAsync(string userId, string csrPem, CancellationToken cancellationToken);

    /// <summary>Certifies exactly the subject and key of the user's current certificate again.</summary>
    Task<SignedCertificate> ReissueAsync(string userId, string currentPem, CancellationToken cancellationToken);
}

/// <summary>A certificate the CA signed, and the CA's audit events of it (with receipts) for the keyserver to commit with it.</summary>
public sealed record SignedCertificate(string CertificatePem, string SerialNumber, string FingerprintSha256, IReadOnlyList<Keyward.AuditTrail.AuditEvent> CaEvents);
