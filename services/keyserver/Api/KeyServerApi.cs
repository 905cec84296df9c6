using Grpc.Core;
using Keyward.CertificateAuthority.V1;
using Keyward.Common.Audit;
using Keyward.AuditTrail;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.Storage;
using Keyward.Common.V1;
using Keyward.Keyserver.Domain;
using Keyward.Keyserver.Storage;
using Keyward.Keyserver.V1;
using Marten;
using JasperFx;
using CaClient = Keyward.CertificateAuthority.V1.CertificateAuthority.CertificateAuthorityClient;

namespace Keyward.Keyserver.Api;

/// <summary>
/// Certificates and private-key blobs of the caller's tenant. Every change and every refusal is recorded
/// in the audit outbox, changes in the same transaction as the change itself.
/// </summary>
public sealed partial class KeyServerApi(TenantContext caller, TenantSessions sessions, IDocumentStore store, AuditRecorder audit, CaClient ca, TimeProvider clock)
    : KeyServer.KeyServerBase
{
    private AuditTarget CallerCertificate => new("certificate", caller.UserId);

    private AuditTarget CallerPrivateKey => new("private_key", caller.UserId);

    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context) =>
        Task.FromResult(caller.Describe(KeyserverSetup.ServiceName));

    public override async Task<Certificate> CreateCertificate(CreateCertificateRequest request, ServerCallContext context)
    {
        // The reference answers 409 before looking at the CSR (§a.2, order of checks).
        await RefuseIfExistsAsync<StoredCertificate>("keys.certificate.refused", CallerCertificate, context.CancellationToken);

        SignUserCsrResponse signed;
        try
        {
            signed = await ca.SignUserCsrAsync(new SignUserCsrRequest { CsrPem = request.CsrPem }, cancellationToken: context.CancellationToken);
        }
        catch (RpcException e) when (e.Reason() is { } reason && e.StatusCode != StatusCode.Unavailable)
        {
            await audit.RecordAloneAsync(store, "keys.certificate.refused", CallerCertificate, AuditOutcome.Denied(reason), cancellationToken: context.CancellationToken);
            throw KeywardError.Create(e.StatusCode, reason, e.Status.Detail);
        }

        await InsertOnceAsync(
            new StoredCertificate { Id = caller.UserId, CertificatePem = signed.CertificatePem, FingerprintSha256 = signed.FingerprintSha256, Source = "ca", CreatedAt = clock.GetUtcNow() },
            "keys.certificate.issued",
            "keys.certificate.refused",
            CallerCertificate,
            new Dictionary<string, string> { ["serial"] = signed.SerialNumber, ["fingerprint_sha256"] = signed.FingerprintSha256 },
            context.CancellationToken);
        return new Certificate { UserId = caller.UserId, CertificatePem = signed.CertificatePem };
    }

    public override async Task<Certificate> StoreCertificate(StoreCertificateRequest request, ServerCallContext context)
    {
        var (reason, message) = ExternalCertificate.Check(request.CertificatePem, caller.UserId);
        if (reason is not null)
        {
            await audit.RecordAloneAsync(store, "keys.certificate.refused", CallerCertificate, AuditOutcome.Failed(reason), cancellationToken: context.CancellationToken);
            throw KeywardError.Create(StatusCode.InvalidArgument, reason, message!);
        }

        await RefuseIfExistsAsync<StoredCertificate>("keys.certificate.refused", CallerCertificate, context.CancellationToken);

        var fingerprint = ExternalCertificate.FingerprintSha256(request.CertificatePem);
        await InsertOnceAsync(
            new StoredCertificate { Id = caller.UserId, CertificatePem = request.CertificatePem, FingerprintSha256 = fingerprint, Source = "external", CreatedAt = clock.GetUtcNow() },
            "keys.certificate.stored",
            "keys.certificate.refused",
            CallerCertificate,
            new Dictionary<string, string> { ["fingerprint_sha256"] = fingerprint },
            context.CancellationToken);
        return new Certificate { UserId = caller.UserId, CertificatePem = request.CertificatePem };
    }

    public override async Task<GetCertificatesResponse> GetCertificates(GetCertificatesRequest request, ServerCallContext context)
    {
        var ids = UserIds.WithCaller(request.UserIds, caller.UserId);
        if (!UserIds.AreValid(ids))
        {
            throw KeywardError.Create(StatusCode.InvalidArgument, "USER_LIST_INVALID", $"ask for at most {UserIds.MaxCount} non-empty user ids of up to {UserIds.MaxLength} characters");
        }

        await using var session = sessions.OpenQuerySession();
        var found = (await session.LoadManyAsync<StoredCertificate>(context.CancellationToken, ids.Distinct().ToArray())).ToDictionary(c => c.Id, StringComparer.Ordinal);
        var response = new GetCertificatesResponse();
        foreach (var id in ids)
        {
            if (!found.TryGetValue(id, out var certificate))
            {
                throw KeywardError.Create(StatusCode.NotFound, ErrorReasons.CertificateNotFound, $"Could not find the public key belonging to the user {id}",
                    new Dictionary<string, string> { ["user_id"] = id });
            }

            response.Certificates.Add(new Certificate { UserId = id, CertificatePem = certificate.CertificatePem });
        }

        return response;
    }

    public override async Task<DeleteCertificateResponse> DeleteCertificate(DeleteCertificateRequest request, ServerCallContext context)
    {
        await DeleteOwnAsync<StoredCertificate>("keys.certificate.deleted", CallerCertificate, context.CancellationToken);
        return new DeleteCertificateResponse();
    }

    public override async Task<PrivateKey> SetPrivateKey(SetPrivateKeyRequest request, ServerCallContext context)
    {
        if (!PrivateKeyBlob.IsWellFormed(request.PrivateKey))
        {
            await audit.RecordAloneAsync(store, "keys.private_key.refused", CallerPrivateKey, AuditOutcome.Failed(ErrorReasons.PrivateKeyInvalid), cancellationToken: context.CancellationToken);
            throw KeywardError.Create(StatusCode.InvalidArgument, ErrorReasons.PrivateKeyInvalid, PrivateKeyBlob.InvalidFormatMessage);
        }

        await RefuseIfExistsAsync<StoredPrivateKey>("keys.private_key.refused", CallerPrivateKey, context.CancellationToken);
        await InsertOnceAsync(
            new StoredPrivateKey { Id = caller.UserId, Blob = request.PrivateKey, CreatedAt = clock.GetUtcNow() },
            "keys.private_key.stored",
            "keys.private_key.refused",
            CallerPrivateKey,
            new Dictionary<string, string> { ["size"] = request.PrivateKey.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            context.CancellationToken);
        return new PrivateKey { PrivateKey_ = request.PrivateKey };
    }

    public override async Task<PrivateKey> GetPrivateKey(GetPrivateKeyRequest request, ServerCallContext context)
    {
        await using var session = sessions.OpenSession();
        var stored = await session.LoadAsync<StoredPrivateKey>(caller.UserId, context.CancellationToken);
        audit.Record(session, "keys.private_key.fetched", CallerPrivateKey, stored is null ? AuditOutcome.Failed(ErrorReasons.PrivateKeyNotFound) : AuditOutcome.Success);
        await session.SaveChangesAsync(context.CancellationToken);
        return stored is null
            ? throw KeywardError.Create(StatusCode.NotFound, ErrorReasons.PrivateKeyNotFound, "Could not find the private key")
            : new PrivateKey { PrivateKey_ = stored.Blob };
    }

    public override async Task<DeletePrivateKeyResponse> DeletePrivateKey(DeletePrivateKeyRequest request, ServerCallContext context)
    {
        await DeleteOwnAsync<StoredPrivateKey>("keys.private_key.deleted", CallerPrivateKey, context.CancellationToken);
        return new DeletePrivateKeyResponse();
    }

    public override async Task<KeyStatus> GetKeyStatus(GetKeyStatusRequest request, ServerCallContext context)
    {
        // Asked on every capabilities request: one round trip for all four answers.
        await using var session = sessions.OpenQuerySession();
        var batch = session.CreateBatchQuery();
        var hasCertificate = batch.Query<StoredCertificate>().Any(c => c.Id == caller.UserId);
        var hasPrivateKey = batch.Query<StoredPrivateKey>().Any(k => k.Id == caller.UserId);
        var hasEscrow = batch.Query<StoredEscrow>().Any(e => e.Id == caller.UserId);
        var recoveryPolicy = batch.Load<StoredRecoveryPolicy>(StoredRecoveryPolicy.SingletonId);
        await batch.Execute(context.CancellationToken);
        var recovery = await recoveryPolicy;
        return new KeyStatus { HasCertificate = await hasCertificate, HasPrivateKey = await hasPrivateKey, RecoveryEnabled = recovery is not null, HasEscrow = await hasEscrow };
    }

    private async Task RefuseIfExistsAsync<T>(string action, AuditTarget target, CancellationToken cancellationToken)
        where T : notnull
    {
        await using var session = sessions.OpenQuerySession();
        if (await session.LoadAsync<T>(caller.UserId, cancellationToken) is not null)
        {
            await audit.RecordAloneAsync(store, action, target, AuditOutcome.Denied(ErrorReasons.KeyExists), cancellationToken: cancellationToken);
            throw KeyExists();
        }
    }

    /// <summary>Inserts the document with its audit event; a concurrent insert for the same user loses with KEY_EXISTS.</summary>
    private async Task InsertOnceAsync<T>(T document, string action, string refusedAction, AuditTarget target, IReadOnlyDictionary<string, string> details, CancellationToken cancellationToken)
        where T : notnull
    {
        try
        {
            await using var session = sessions.OpenSession();
            session.Insert(document);
            audit.Record(session, action, target, AuditOutcome.Success, details);
            await session.SaveChangesAsync(cancellationToken);
        }
        catch (DocumentAlreadyExistsException)
        {
            await audit.RecordAloneAsync(store, refusedAction, target, AuditOutcome.Denied(ErrorReasons.KeyExists), cancellationToken: cancellationToken);
            throw KeyExists();
        }
    }

    private async Task DeleteOwnAsync<T>(string action, AuditTarget target, CancellationToken cancellationToken)
        where T : notnull
    {
        await using var session = sessions.OpenSession();
        var existed = await session.LoadAsync<T>(caller.UserId, cancellationToken) is not null;
        session.Delete<T>(caller.UserId);
        audit.Record(session, action, target, AuditOutcome.Success, new Dictionary<string, string> { ["existed"] = existed ? "true" : "false" });
        await session.SaveChangesAsync(cancellationToken);
    }

    private static RpcException KeyExists() => KeywardError.Create(StatusCode.AlreadyExists, ErrorReasons.KeyExists, "a key is already stored for this user; delete it first");
}
