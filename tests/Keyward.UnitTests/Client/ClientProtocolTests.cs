using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Keyward.CertificateAuthority.Core;
using Keyward.Client;
using Keyward.UnitTests.CertificateAuthority;

namespace Keyward.UnitTests.Client;

/// <summary>The client library's own round trips, with certificates issued by the CA's real profile.</summary>
public sealed class ClientProtocolTests
{
    private static readonly SoftwareTenantKey ServerKey = new(RSA.Create(2048));

    private static (RSA Key, string Certificate) User(string id)
    {
        var key = DeviceKeys.NewKeyPair();
        var request = CsrPolicy.Evaluate(DeviceKeys.CreateCsr(key, id), id).Request!;
        return (key, new CertificateProfile(7300).Issue(request, ServerKey, DateTimeOffset.UtcNow).ExportCertificatePem());
    }

    [Fact]
    public void A_mnemonic_has_twelve_words_a_valid_checksum_and_protects_the_private_key()
    {
        var mnemonic = Mnemonics.Generate();
        using var key = DeviceKeys.NewKeyPair();

        var blob = PrivateKeyVault.Encrypt(key, mnemonic);
        using var opened = PrivateKeyVault.Decrypt(blob, mnemonic.ToUpperInvariant().Replace(" ", "  "));

        Assert.Equal(12, mnemonic.Split(' ').Length);
        Assert.True(Mnemonics.IsValid(mnemonic));
        Assert.False(Mnemonics.IsValid(string.Join(' ', Enumerable.Repeat("abandon", 12))));
        Assert.True(Mnemonics.IsValid("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"));
        Assert.False(Mnemonics.IsValid("abandon abandon abandon"));
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), opened.ExportSubjectPublicKeyInfo());
        Assert.True(Keyward.Keyserver.Core.PrivateKeyBlob.IsWellFormed(blob));
    }

    [Fact]
    public void Sealed_and_signed_metadata_opens_for_every_user_and_passes_the_checks()
    {
        var (aliceKey, alice) = User("alice");
        var (bobKey, bob) = User("bob");
        var content = new FolderContent { Counter = 1 };
        var metadataKey = MetadataV2.Rotate(content);
        var (body, entry) = FileCrypto.Encrypt("hello"u8, "hello.txt", "text/plain");
        content.Files[FileCrypto.NewObjectName()] = entry;

        var metadata = MetadataV2.Seal(content, metadataKey, [new FolderUser("alice", alice), new FolderUser("bob", bob)]);
        var signature = MetadataV2.Sign(metadata, aliceKey, alice);

        var bobsKey = MetadataV2.UnwrapKey(metadata, "bob", bobKey);
        var opened = MetadataV2.Open(metadata, bobsKey);
        var check = MetadataV2.Verify(metadata, signature, bobsKey, opened, ServerKey.PublicKeyPem, MetadataV2.Users(metadata), lastCounter: 1);
        Assert.True(check.IsValid, check.Problem);
        Assert.Equal("alice", check.Signer);
        Assert.Equal("hello", Encoding.UTF8.GetString(FileCrypto.Decrypt(body, opened.Files.Values.Single())));
        Assert.DoesNotContain("hello.txt", metadata);
    }

    [Fact]
    public void Unsharing_rotates_the_key_and_the_removed_user_cannot_open_what_follows()
    {
        var (aliceKey, alice) = User("alice");
        var (bobKey, bob) = User("bob");
        var content = new FolderContent { Counter = 1 };
        var firstKey = MetadataV2.Rotate(content);
        MetadataV2.Seal(content, firstKey, [new FolderUser("alice", alice), new FolderUser("bob", bob)]);

        content.Counter = 2;
        var secondKey = MetadataV2.Rotate(content);
        var after = MetadataV2.Seal(content, secondKey, [new FolderUser("alice", alice)]);

        Assert.Equal(2, content.KeyChecksums!.Count);
        Assert.Throws<CryptographicException>(() => MetadataV2.UnwrapKey(after, "bob", bobKey));
        Assert.ThrowsAny<CryptographicException>(() => MetadataV2.Open(after, firstKey));
        Assert.Equal(2, MetadataV2.Open(after, MetadataV2.UnwrapKey(after, "alice", aliceKey)).Counter);
    }

    [Fact]
    public void Verification_refuses_a_signer_outside_the_folder_a_foreign_certificate_a_lost_checksum_and_a_rollback()
    {
        var (aliceKey, alice) = User("alice");
        var (malloryKey, mallory) = User("mallory");
        var content = new FolderContent { Counter = 3 };
        var key = MetadataV2.Rotate(content);
        var users = new List<FolderUser> { new("alice", alice) };
        var metadata = MetadataV2.Seal(content, key, users);

        Assert.False(MetadataV2.Verify(metadata, MetadataV2.Sign(metadata, malloryKey, mallory), key, content, ServerKey.PublicKeyPem, users).IsValid);
        var signature = MetadataV2.Sign(metadata, aliceKey, alice);
        Assert.False(MetadataV2.Verify(metadata, signature, key, content, new SoftwareTenantKey(RSA.Create(2048)).PublicKeyPem, users).IsValid);
        Assert.False(MetadataV2.Verify(metadata, signature, key, content, ServerKey.PublicKeyPem, users, lastChecksums: ["00"]).IsValid);
        Assert.False(MetadataV2.Verify(metadata, signature, key, content, ServerKey.PublicKeyPem, users, lastCounter: 4).IsValid);
        Assert.True(MetadataV2.Verify(metadata, signature, key, content, ServerKey.PublicKeyPem, users, lastCounter: 3, lastChecksums: content.KeyChecksums).IsValid);
    }

    [Fact]
    public void A_certificate_made_by_someone_else_in_a_members_name_is_not_that_member()
    {
        // Adversary (a), the server or a DB writer: signs with a self-made certificate whose subject and issuer say "alice".
        var (_, alice) = User("alice");
        using var forgerKey = RSA.Create(2048);
        using var forged = new CertificateRequest("CN=alice", forgerKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddYears(1));
        var content = new FolderContent { Counter = 1 };
        var key = MetadataV2.Rotate(content);
        var users = new List<FolderUser> { new("alice", alice) };
        var metadata = MetadataV2.Seal(content, key, users);

        var check = MetadataV2.Verify(metadata, MetadataV2.Sign(metadata, forgerKey, forged.ExportCertificatePem()), key, content, ServerKey.PublicKeyPem, users);

        Assert.False(check.IsValid);
        Assert.Contains("no user's in the folder", check.Problem);
    }

    [Fact]
    public void A_member_whose_certificate_differs_from_this_devices_pin_is_refused_as_signer()
    {
        // Adversary (a): the server re-issued "alice" on a key it holds and put that certificate in the users array.
        var (_, pinnedAlice) = User("alice");
        var (swappedKey, swappedAlice) = User("alice");
        var content = new FolderContent { Counter = 1 };
        var key = MetadataV2.Rotate(content);
        var users = new List<FolderUser> { new("alice", swappedAlice) };
        var metadata = MetadataV2.Seal(content, key, users);
        var signature = MetadataV2.Sign(metadata, swappedKey, swappedAlice);
        var pins = new Dictionary<string, string> { ["alice"] = DeviceKeys.Fingerprint(pinnedAlice) };

        var check = MetadataV2.Verify(metadata, signature, key, content, ServerKey.PublicKeyPem, users, pinnedFingerprints: pins);

        Assert.False(check.IsValid);
        Assert.Contains("pinned", check.Problem);
        Assert.True(MetadataV2.Verify(metadata, signature, key, content, ServerKey.PublicKeyPem, users).IsValid);
    }

    [Fact]
    public void A_filedrop_entry_opens_only_for_the_folders_users()
    {
        var (aliceKey, alice) = User("alice");
        var (_, entry) = FileCrypto.Encrypt("dropped"u8, "drop.txt", "text/plain");

        var (_, dropped) = Filedrop.Create(entry, [new FolderUser("alice", alice)]);

        Assert.Equal("drop.txt", Filedrop.Open(dropped, "alice", aliceKey).Filename);
        Assert.DoesNotContain("drop.txt", dropped.ToJsonString());
    }

    [Fact]
    public void Issued_certificates_check_against_the_server_key()
    {
        var (key, certificate) = User("carol");

        Assert.True(DeviceKeys.IsIssuedBy(certificate, ServerKey.PublicKeyPem));
        Assert.True(DeviceKeys.Matches(certificate, key));
        Assert.Equal(64, DeviceKeys.Fingerprint(certificate).Length);
    }
}
