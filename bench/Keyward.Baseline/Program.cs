using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Keyward.Baseline;
using Keyward.CertificateAuthority.Adapters.Pkcs11;
using Keyward.CertificateAuthority.Core;
using Keyward.Common.Audit;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Gateway.Api;
using Keyward.Gateway.Core;
using Keyward.Metadata.Core;
using Keyward.Metadata.V1;
using Microsoft.Extensions.Options;

// The single-process yardstick of scripts/bench (issue #18): what Keyward's hot paths cost without the
// services between them. The same client calls the same OCS endpoints; behind them run the same Core code
// (OCS parameters and envelope, tenant token check, CSR policy and certificate profile signed on the HSM, lock
// and metadata rules with the server-side signature check) and one durable commit per write with its audit rows.
// What it leaves out, on purpose: the hash chain and its proofs, the broker, gRPC, the outboxes.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var port = builder.Configuration.GetValue<int>("Keyward:Ports:Http");
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
var tenants = new TenantRegistryOptions();
builder.Configuration.GetSection(TenantRegistryOptions.Section).Bind(tenants.Tenants);
builder.Services.AddSingleton(new TenantTokenValidator(TenantRegistry.FromOptions(tenants)));
builder.Services.Configure<HsmOptions>(builder.Configuration.GetSection(HsmOptions.Section));
builder.Services.Configure<CaOptions>(builder.Configuration.GetSection(CaOptions.Section));
builder.Services.AddSingleton<Pkcs11Token>();
builder.Services.AddSingleton<ITenantKeys, Pkcs11TenantKeys>();
builder.Services.AddSingleton(sp => new SigningBudget(sp.GetRequiredService<IOptions<CaOptions>>().Value));
builder.Services.AddSingleton(await BaselineStore.OpenAsync(builder.Configuration.GetConnectionString("Postgres")
    ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set")));
var app = builder.Build();

app.MapGet("/readyz", () => Results.Text("ready"));
var api = app.MapGroup("/ocs/v2.php/apps/end_to_end_encryption/api/v2");

api.MapPost("/public-key", (HttpContext http, ITenantKeys keys, SigningBudget budget, IOptions<CaOptions> ca, BaselineStore store) =>
    RunAsync(http, store, async (caller, audit) =>
    {
        var parameters = await OcsParameters.ReadAsync(http.Request);
        if (store.HasCertificate(caller.TenantId, caller.UserId))
        {
            return OcsAnswer.Thrown(409, "Key already exists");
        }

        // The CA's own issuance: CSR policy, signing budget, profile, HSM signature and its audit records. It signs
        // only for the service identity acting for a user, which this one process is.
        var asService = caller with { Roles = new HashSet<string>(caller.Roles) { KeywardRoles.Service } };
        var issued = await new CertificateIssuance(asService, keys, audit, RequestAudit.NoReceipts, ca.Value, budget, TimeProvider.System)
            .IssueAsync(new CertificateWanted(caller.UserId, parameters["csr"], null), http.RequestAborted);
        await store.StoreCertificateAsync(caller, issued.CertificatePem, issued.FingerprintSha256, audit.Take(), http.RequestAborted);
        return OcsAnswer.Ok(new JsonObject { ["public-key"] = issued.CertificatePem });
    }));

api.MapPut("/encrypted/{id}", (string id, HttpContext http, BaselineStore store) => RunAsync(http, store, async (caller, audit) =>
{
    var parameters = await OcsParameters.ReadAsync(http.Request);
    await new RegisterFolder(Folders(caller, store, audit)).ExecuteAsync(id, parameters["parentId"], http.RequestAborted);
    return OcsAnswer.OkEmpty();
}));

api.MapPost("/lock/{id}", (string id, HttpContext http, BaselineStore store) => RunAsync(http, store, async (caller, audit) =>
{
    var parameters = await OcsParameters.ReadAsync(http.Request);
    long.TryParse(http.Request.Headers["X-NC-E2EE-COUNTER"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var counter);
    var token = await new LockFolder(Folders(caller, store, audit)).ExecuteAsync(new LockRequestedBy(id, counter, parameters["e2e-token"], ApiVersion.V2), http.RequestAborted);
    return OcsAnswer.Ok(new JsonObject { ["e2e-token"] = token });
}));

api.MapPost("/meta-data/{id}", (string id, HttpContext http, BaselineStore store) => WriteAsync(id, http, store, create: true));
api.MapPut("/meta-data/{id}", (string id, HttpContext http, BaselineStore store) => WriteAsync(id, http, store, create: false));

api.MapDelete("/lock/{id}", (string id, HttpContext http, BaselineStore store) => RunAsync(http, store, async (caller, audit) =>
{
    var parameters = await OcsParameters.ReadAsync(http.Request);
    await new UnlockFolder(Folders(caller, store, audit)).ExecuteAsync(id, http.Request.Headers["e2e-token"].ToString(),
        string.Equals(parameters["abort"], "true", StringComparison.OrdinalIgnoreCase), ApiVersion.V2, http.RequestAborted);
    return OcsAnswer.OkEmpty();
}));

await app.RunAsync();
return;

static Task WriteAsync(string id, HttpContext http, BaselineStore store, bool create) => RunAsync(http, store, async (caller, audit) =>
{
    var parameters = await OcsParameters.ReadAsync(http.Request);
    var metadata = parameters["metaData"] ?? "";
    var write = new MetadataWrite(id, http.Request.Headers["e2e-token"].ToString(), http.Request.Headers["X-NC-E2EE-SIGNATURE"].ToString(), metadata, ApiVersion.V2, create);
    await new WriteMetadata(Folders(caller, store, audit), new MetadataLimits(), new SignaturePolicyOptions(), store.CertificatesOf(caller.TenantId))
        .ExecuteAsync(write, http.RequestAborted);
    return OcsAnswer.Ok(new JsonObject { ["meta-data"] = metadata });
});

static FolderContext Folders(TenantContext caller, BaselineStore store, RequestAudit audit) =>
    new(caller, store.FoldersOf(caller), audit, TimeProvider.System, new FolderRules());

// Checks the caller's token, runs the call, and answers in the OCS envelope; a refusal's audit records commit on their own.
static async Task RunAsync(HttpContext http, BaselineStore store, Func<TenantContext, RequestAudit, Task<OcsAnswer>> call)
{
    var header = http.Request.Headers.Authorization.ToString();
    var check = header.StartsWith("Bearer ", StringComparison.Ordinal)
        ? await http.RequestServices.GetRequiredService<TenantTokenValidator>().ValidateAsync(header["Bearer ".Length..])
        : TokenCheck.Refused("a bearer token is required");
    if (check.Tenant is not { } caller)
    {
        await OcsResult.Write(http, OcsFlavor.V2, OcsAnswer.Unauthorised(check.Error ?? "not logged in"));
        return;
    }

    var audit = new RequestAudit();
    OcsAnswer answer;
    try
    {
        answer = await call(caller, audit);
    }
    catch (Refusal refusal)
    {
        await store.RecordAsync(caller, audit.Take(), http.RequestAborted);
        answer = OcsAnswer.Thrown(refusal.Kind switch
        {
            RefusalKind.NotFound => 404,
            RefusalKind.PermissionDenied => 403,
            RefusalKind.AlreadyExists => 409,
            RefusalKind.Exhausted => 429,
            _ => 400,
        }, refusal.Message);
    }

    await OcsResult.Write(http, OcsFlavor.V2, answer);
}

/// <summary>The audit records Core code states during one request, committed with its change (or, refused, on their own).</summary>
internal sealed class RequestAudit : IAuditTrail
{
    /// <summary>One process commits the CA's records with the certificate itself: no events are handed over, so none need a receipt.</summary>
    public static readonly IAuditEventSource NoReceipts = new NoEventsHandedOver();

    private readonly List<AuditRecord> _records = [];

    public Task RecordAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        _records.AddRange(records);
        return Task.CompletedTask;
    }

    public IReadOnlyList<AuditRecord> Take()
    {
        var taken = _records.ToList();
        _records.Clear();
        return taken;
    }

    private sealed class NoEventsHandedOver : IAuditEventSource
    {
        public Keyward.AuditTrail.AuditEvent Create(AuditRecord record) => throw new NotSupportedException("the baseline asks the CA code to record its events, not to hand them over");
    }
}
