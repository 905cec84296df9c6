using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keyward.Client;
using Keyward.Tests.Shared;

namespace Keyward.UnitTests.Client;

/// <summary>The client library opens every vector from Nextcloud's repositories in shared/reference/vectors.</summary>
public sealed class VectorTests
{
    private static JsonElement PrivateKeys => Vectors.Load("e2ee-app-v2/private-keys.json");

    [Theory]
    [InlineData("admin")]
    [InlineData("aliceLegacy")]
    [InlineData("alice")]
    [InlineData("bob")]
    public void Every_private_key_blob_opens_with_its_mnemonic_and_matches_its_certificate(string user)
    {
        var vector = PrivateKeys.GetProperty(user);

        using var key = PrivateKeyVault.Decrypt(vector.GetProperty("serverString").GetString()!, vector.GetProperty("mnemonic").GetString()!);

        Assert.True(DeviceKeys.Matches(vector.GetProperty("certificatePem").GetString()!, key));
        Assert.Throws<CryptographicException>(() => PrivateKeyVault.Decrypt(vector.GetProperty("serverString").GetString()!, "wrong words"));
    }

    [Theory]
    [InlineData("testdata-v1/version10.json")]
    [InlineData("testdata-v1/version11.json")]
    [InlineData("testdata-v1/version12.json")]
    public void Legacy_server_data_opens_private_key_metadata_key_and_every_file_entry(string file)
    {
        var vector = Vectors.Load(file);
        using var key = PrivateKeyVault.Decrypt(vector.GetProperty("privateKeyFile").GetString()!, vector.GetProperty("mnemonic").GetString()!);
        Assert.True(DeviceKeys.Matches(vector.GetProperty("publicKeyFile").GetString()!, key));

        var metadata = JsonNode.Parse(vector.GetProperty("metaDataFile").GetString()!)!;
        var inner = metadata["metadata"]!;
        var wrapped = inner["metadataKey"]?.GetValue<string>() ?? inner["metadataKeys"]!.AsObject().Last().Value!.GetValue<string>();
        var metadataKey = LegacyMetadata.UnwrapKey(wrapped, key);
        Assert.Equal(16, metadataKey.Length);

        var expected = vector.GetProperty("decryptedFiles");
        foreach (var (id, entry) in metadata["files"]!.AsObject())
        {
            var opened = LegacyMetadata.OpenEntry(entry!["encrypted"]!.GetValue<string>(), metadataKey);
            Assert.Equal(expected.GetProperty(id).GetProperty("filename").GetString(), opened["filename"]!.GetValue<string>());
        }
    }

    [Fact]
    public void The_v2_root_and_subfolder_metadata_decrypt_and_pass_every_client_check()
    {
        var root = Vectors.Load("e2ee-app-v2/root-folder-metadata.json");
        var sub = Vectors.Load("e2ee-app-v2/subfolder-metadata.json");
        var rootMetadata = root.GetProperty("metadataJson").GetRawText();
        using var admin = RSA.Create();
        admin.ImportFromPem(PrivateKeys.GetProperty("admin").GetProperty("decryptedPkcs8Pem").GetString());
        var serverKey = Vectors.Load("e2ee-app-v2/server-keys.json").GetProperty("serverPublicKeyForAdminAndLegacyAlice").GetString()!;

        var metadataKey = MetadataV2.UnwrapKey(rootMetadata, "admin", admin);
        var rootContent = MetadataV2.Open(rootMetadata, metadataKey);
        var subContent = MetadataV2.Open(sub.GetProperty("metadataJson").GetRawText(), metadataKey);

        Assert.Equal(root.GetProperty("derivedMetadataKeyBase64").GetString(), Convert.ToBase64String(metadataKey));
        Assert.Equal(Encoding.ASCII.GetString(MetadataV2.SignedBytes(rootMetadata)), root.GetProperty("signedContentBase64").GetString());
        Assert.Equal(5, rootContent.Counter);
        Assert.Equal("test.txt", rootContent.Files["ad3b12554e0d4364854ae3e21b170152"].Filename);
        Assert.Equal(sub.GetProperty("expectedDecryptedMetadata").GetProperty("counter").GetInt64(), subContent.Counter);
        var users = MetadataV2.Users(rootMetadata);
        // alice's certificate in this folder was issued by another server key in the fixtures; check admin's path.
        var check = MetadataV2.Verify(rootMetadata, root.GetProperty("signatureBase64").GetString()!, metadataKey, rootContent, serverKey, users.Where(u => u.UserId == "admin").ToList());
        Assert.True(check.IsValid, check.Problem);
        Assert.Equal("admin", check.Signer);
        Assert.False(MetadataV2.Verify(rootMetadata, root.GetProperty("signatureBase64").GetString()!, metadataKey, rootContent, serverKey, users.Where(u => u.UserId == "admin").ToList(), lastCounter: 6).IsValid);
        Assert.True(MetadataV2.Verify(sub.GetProperty("metadataJson").GetRawText(), sub.GetProperty("signatureBase64").GetString()!, metadataKey, subContent, serverKey, users.Where(u => u.UserId == "admin").ToList()).IsValid);
    }

    [Fact]
    public void The_encrypted_file_bodies_decrypt_with_their_metadata_entries()
    {
        var v2 = Vectors.Load("e2ee-app-v2/encrypted-file.json");
        var entry = new FileEntry(v2.GetProperty("filename").GetString()!, v2.GetProperty("mimetype").GetString()!, v2.GetProperty("nonceBase64").GetString()!,
            v2.GetProperty("authenticationTagBase64").GetString()!, v2.GetProperty("keyBase64").GetString()!);
        Assert.Equal(v2.GetProperty("expectedPlaintext").GetString(), Encoding.UTF8.GetString(FileCrypto.Decrypt(Convert.FromBase64String(v2.GetProperty("encryptedContentBase64").GetString()!), entry)));

        var v1 = Vectors.Load("testdata-v1/version12-file-readme.json");
        var legacy = new FileEntry(v1.GetProperty("filename").GetString()!, "text/plain", v1.GetProperty("initializationVectorBase64").GetString()!,
            v1.GetProperty("authenticationTagBase64").GetString()!, v1.GetProperty("keyBase64").GetString()!);
        Assert.Equal(v1.GetProperty("expectedPlaintext").GetString(), Encoding.UTF8.GetString(FileCrypto.Decrypt(Convert.FromBase64String(v1.GetProperty("encryptedContentBase64").GetString()!), legacy)));
    }

    [Fact]
    public void Server_key_vectors_verify_their_certificates_and_refuse_the_others()
    {
        var keys = Vectors.Load("e2ee-app-v2/server-keys.json");
        var adminServer = keys.GetProperty("serverPublicKeyForAdminAndLegacyAlice").GetString()!;
        var fixtureServer = keys.GetProperty("serverPublicKeyForFixtureAliceAndBob").GetString()!;

        Assert.True(DeviceKeys.IsIssuedBy(PrivateKeys.GetProperty("admin").GetProperty("certificatePem").GetString()!, adminServer));
        Assert.True(DeviceKeys.IsIssuedBy(PrivateKeys.GetProperty("bob").GetProperty("certificatePem").GetString()!, fixtureServer));
        Assert.False(DeviceKeys.IsIssuedBy(PrivateKeys.GetProperty("bob").GetProperty("certificatePem").GetString()!, adminServer));
        foreach (var pair in keys.GetProperty("cryptoSpecPairs").EnumerateArray())
        {
            Assert.StartsWith("-----BEGIN CERTIFICATE-----", pair.GetProperty("certificatePem").GetString());
        }
    }

    [Fact]
    public void The_desktop_test_key_pair_matches_and_its_filedrop_metadata_key_unwraps()
    {
        using var key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(Path.Combine(Vectors.Directory, "desktop", "e2etestsfakecertprivatekey.pem")));
        var certificate = File.ReadAllText(Path.Combine(Vectors.Directory, "desktop", "e2etestsfakecert.pem"));
        Assert.True(DeviceKeys.Matches(certificate, key));

        var decrypted = Vectors.Load("desktop/fakefiledrope2eefoldermetadata.decrypted.json");
        var answer = Vectors.Load("desktop/fakefiledrope2eefoldermetadata.json");
        var metadata = JsonNode.Parse(answer.GetProperty("ocs").GetProperty("data").GetProperty("meta-data").GetString()!)!;
        var metadataKey = LegacyMetadata.UnwrapKey(metadata["metadata"]!["metadataKey"]!.GetValue<string>(), key);
        Assert.Equal(decrypted.GetProperty("metadataKeyBase64").GetString(), Convert.ToBase64String(metadataKey));

        var lockAnswer = Vectors.Load("desktop/fake2eelocksucceeded.json");
        Assert.False(string.IsNullOrEmpty(lockAnswer.GetProperty("ocs").GetProperty("data").GetProperty("e2e-token").GetString()));
    }

    [Fact]
    public void The_android_gzip_vector_inflates()
    {
        var vector = Vectors.Load("android/gzip.json");
        using var gzip = new GZipStream(new MemoryStream(Convert.FromBase64String(vector.GetProperty("gzipBase64").GetString()!)), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);

        Assert.Equal(vector.GetProperty("rawGunzipPlaintext").GetString(), reader.ReadToEnd());
    }

    [Fact]
    public void The_PROPFIND_answers_carry_the_E2EE_properties()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Vectors.Directory, "e2ee-app-v2", "propfind"), "*.xml"))
        {
            var xml = System.Xml.Linq.XDocument.Load(file);
            Assert.Contains(xml.Descendants(), e => e.Name.LocalName.StartsWith("e2ee-", StringComparison.Ordinal) || e.Name.LocalName == "is-encrypted");
        }
    }
}
