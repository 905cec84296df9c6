using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keyward.Client;
using Keyward.Common.Auth;
using Keyward.Common.Errors;
using Keyward.Common.V1;
using Keyward.Metadata.Core;
using Keyward.Metadata.V1;
using Keyward.Tests.Shared;

namespace Keyward.UnitTests.Metadata;

/// <summary>
/// The server checks X-NC-E2EE-SIGNATURE (issue #15): Nextcloud's own signed metadata from its repositories is accepted;
/// a signature over other bytes, by someone outside the folder, or by a certificate other than the one Keyward holds
/// for the signer is not — refused and audited under <c>enforce</c>, stored as unverified under <c>audit-only</c>.
/// </summary>
public sealed class MetadataSignatureTests
{
    private static readonly JsonElement Root = Vectors.Load("e2ee-app-v2/root-folder-metadata.json");
    private static readonly JsonElement Sub = Vectors.Load("e2ee-app-v2/subfolder-metadata.json");
    private static readonly string RootMetadata = Root.GetProperty("metadataJson").GetRawText();
    private static readonly string RootSignature = Root.GetProperty("signatureBase64").GetString()!;
    private static readonly string AdminCertificate = Users(RootMetadata)["admin"];

    private readonly HeldCertificates _held = new();
    private readonly InMemoryFolderStore _store = new();
    private readonly RecordingAuditTrail _refusals = new();

    public MetadataSignatureTests() => _held.ByUser["admin"] = AdminCertificate;

    [Fact]
    public void The_signed_bytes_are_the_ones_Nextclouds_client_signed()
    {
        Assert.Equal(Root.GetProperty("signedContentBase64").GetString(), Encoding.ASCII.GetString(MetadataV2.SignedBytes(RootMetadata)));
        Assert.Equal(Sub.GetProperty("signedContentBase64").GetString(), Encoding.ASCII.GetString(MetadataV2.SignedBytes(Sub.GetProperty("metadataJson").GetRawText())));
    }

    [Fact]
    public async Task Nextclouds_root_and_sub_folder_metadata_with_their_signatures_are_accepted()
    {
        Assert.Equal(("admin", (string?)null), await CheckAsync(RootMetadata, RootSignature, ["admin", "alice"]));
        Assert.Equal(("admin", (string?)null), await CheckAsync(Sub.GetProperty("metadataJson").GetRawText(), Sub.GetProperty("signatureBase64").GetString()!, ["admin", "alice"]));
        Assert.Null(MetadataValidation.Problem(RootMetadata, isRoot: true, new MetadataLimits()));
        Assert.Null(MetadataValidation.Problem(Sub.GetProperty("metadataJson").GetRawText(), isRoot: false, new MetadataLimits()));
    }

    [Fact]
    public async Task A_bit_flipped_ciphertext_no_longer_matches_its_signature()
    {
        var document = JsonNode.Parse(RootMetadata)!;
        var ciphertext = Convert.FromBase64String(document["metadata"]!["ciphertext"]!.GetValue<string>().Split('|')[0]);
        ciphertext[10] ^= 0x01;
        document["metadata"]!["ciphertext"] = Convert.ToBase64String(ciphertext);

        Assert.Equal("the signature does not verify over this metadata", (await CheckAsync(document.ToJsonString(), RootSignature, ["admin", "alice"])).Problem);
    }

    [Fact]
    public async Task A_signature_by_a_user_outside_the_folder_is_refused()
    {
        Assert.Equal("the signer is not one of the folder's users", (await CheckAsync(RootMetadata, RootSignature, ["alice"])).Problem);
    }

    [Fact]
    public async Task A_signature_by_a_certificate_from_another_CA_in_the_signers_name_is_refused()
    {
        // Mallory makes her own "admin" certificate and signs the real document with it.
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=admin", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var forged = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        var signature = MetadataV2.Sign(RootMetadata, key, forged.ExportCertificatePem());

        Assert.Equal("the signature is not made with the certificate Keyward holds for its signer", (await CheckAsync(RootMetadata, signature, ["admin", "alice"])).Problem);

        // …and the genuine signature no longer passes once Keyward holds another certificate for admin, or none.
        _held.ByUser["admin"] = forged.ExportCertificatePem();
        Assert.NotNull((await CheckAsync(RootMetadata, RootSignature, ["admin"])).Problem);
        _held.ByUser.Clear();
        Assert.NotNull((await CheckAsync(RootMetadata, RootSignature, ["admin"])).Problem);
    }

    [Theory]
    [InlineData("c2lnbmF0dXJl")]
    [InlineData("AAAA")]
    public async Task Base64_that_is_not_a_CMS_signature_is_refused(string signature)
    {
        Assert.Equal("the signature does not verify over this metadata", (await CheckAsync(RootMetadata, signature, ["admin"])).Problem);
    }

    [Fact]
    public async Task Under_enforce_a_bad_signature_is_refused_audited_and_nothing_is_stored_and_the_good_one_commits_as_verified()
    {
        var token = await LockedFolderAsync();
        var write = Writer(SignaturePolicyOptions.Enforce);

        var refused = await Assert.ThrowsAsync<Refusal>(() => write.ExecuteAsync(new MetadataWrite("10", token, "c2lnbmF0dXJl", RootMetadata, ApiVersion.V2, Create: true), default));
        Assert.Equal(RefusalReason.SignatureRejected, refused.Reason);
        Assert.Equal("Invalid metadata signature: the signature does not verify over this metadata", refused.Message);
        Assert.Null(_store.Folder("10")!.Pending);
        Assert.Contains(_refusals.Records, r => r.Action == "metadata.metadata.created" && r.Outcome.Reason == "SIGNATURE_REJECTED");

        await write.ExecuteAsync(new MetadataWrite("10", token, RootSignature, RootMetadata, ApiVersion.V2, Create: true), default);
        await new UnlockFolder(As("admin")).ExecuteAsync("10", token, abort: false, ApiVersion.V2, default);
        Assert.True(_store.Folder("10")!.Committed!.SignatureVerified);
        Assert.True(((await new FolderQueries(As("admin")).VersionsAsync("10", 0, 0, default)).Versions).Single().SignatureVerified);
        Assert.Contains(_store.Committed, r => r.Action == "metadata.metadata.created" && r.Details["signature"] == "verified (admin)");
    }

    [Fact]
    public async Task Under_audit_only_a_bad_signature_is_stored_marked_unverified_and_the_failure_audited()
    {
        var token = await LockedFolderAsync();

        await Writer(SignaturePolicyOptions.AuditOnly).ExecuteAsync(new MetadataWrite("10", token, "c2lnbmF0dXJl", RootMetadata, ApiVersion.V2, Create: true), default);
        await new UnlockFolder(As("admin")).ExecuteAsync("10", token, abort: false, ApiVersion.V2, default);

        Assert.False(_store.Folder("10")!.Committed!.SignatureVerified);
        Assert.Contains(_store.Committed, r => r.Action == "metadata.metadata.created" && r.Details["signature"].StartsWith("unverified", StringComparison.Ordinal));
    }

    [Fact]
    public void The_policy_is_per_tenant()
    {
        var policy = new SignaturePolicyOptions { Tenants = { ["migrating"] = SignaturePolicyOptions.AuditOnly } };

        Assert.True(policy.Enforces("tenant-a"));
        Assert.False(policy.Enforces("migrating"));
        Assert.False(new SignaturePolicyOptions { Default = "off" }.IsValid);
    }

    private Task<(string? Signer, string? Problem)> CheckAsync(string metadata, string signature, string[] members) =>
        MetadataSignatureCheck.CheckAsync(metadata, signature, members, _held, default);

    private FolderContext As(string user) =>
        new(new TenantContext("tenant-a", user, new HashSet<string> { KeywardRoles.User }), _store, _refusals, new ManualClock(DateTimeOffset.UtcNow), new FolderRules());

    private WriteMetadata Writer(string policy) => new(As("admin"), new MetadataLimits(), new SignaturePolicyOptions { Default = policy }, _held);

    private async Task<string> LockedFolderAsync()
    {
        await new RegisterFolder(As("admin")).ExecuteAsync("10", null, default);
        return await new LockFolder(As("admin")).ExecuteAsync(new LockRequestedBy("10", 1, null, ApiVersion.V2), default);
    }

    private static Dictionary<string, string> Users(string metadata) =>
        JsonNode.Parse(metadata)!["users"]!.AsArray().ToDictionary(u => u!["userId"]!.GetValue<string>(), u => u!["certificate"]!.GetValue<string>());
}
