using System.Globalization;
using Keyward.AuditTrail;
using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Keyward.Common.Errors;

namespace Keyward.Metadata.Core;

/// <summary>What every folder use case works with: the caller, the folders, the audit trail and the clock.</summary>
public sealed class FolderContext(TenantContext caller, IFolderStore folders, IAuditTrail audit, TimeProvider clock, FolderRules rules)
{
    public FolderRules Rules { get; } = rules;

    public TenantContext Caller { get; } = caller;

    public IFolderStore Folders { get; } = folders;

    public DateTimeOffset Now => clock.GetUtcNow();

    public static void RequireFolderId(string? id)
    {
        if (!FolderAccess.IsValidFolderId(id))
        {
            throw MetadataRefusals.FolderIdInvalid();
        }
    }

    /// <summary>Audits a refused access on its own (nothing else changes) and returns the refusal to throw.</summary>
    public async Task<Refusal> DeniedAsync(string action, string folderId, CancellationToken cancellationToken)
    {
        await audit.RecordAsync(action, Target(folderId), AuditOutcome.Denied(RefusalReasons.Name(Common.V1.RefusalReason.AccessDenied)), cancellationToken);
        return MetadataRefusals.AccessDenied(folderId);
    }

    /// <summary>Audits any other refusal on its own and returns it.</summary>
    public async Task<Refusal> RefusedAsync(string action, string folderId, Refusal refusal, CancellationToken cancellationToken)
    {
        await audit.RecordAsync(action, Target(folderId), AuditOutcome.Denied(RefusalReasons.Name(refusal.Reason)), cancellationToken);
        return refusal;
    }

    public static AuditRecord Success(string action, string folderId, params (string Key, string Value)[] details) =>
        new(action, Target(folderId), AuditOutcome.Success, details.ToDictionary(d => d.Key, d => d.Value));

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static AuditTarget Target(string folderId) => new("folder", folderId);
}
