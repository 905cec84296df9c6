using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Keyward.IntegrationTests.Infrastructure;
using Keyward.Tests.Shared;

namespace Keyward.IntegrationTests.EndToEnd;

/// <summary>The Nextcloud key endpoints through the gateway, against the real keyserver, CA, SoftHSM and PostgreSQL.</summary>
[Collection(SystemCollection.Name)]
public sealed class KeyEndpointTests(KeywardSystem system)
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.ASCII.GetBytes(s));

    private static readonly string ValidBlob = $"{B64("MY-SECRET-PRIVATE-KEY")}|{B64(new string('B', 12))}|{B64(new string('A', 40))}";

    private static string NewUser(string name = "user") => $"{name}-{Guid.NewGuid():N}"[..24];

    private static (string Pem, RSA Key) Csr(string commonName, int bits = 2048)
    {
        var key = RSA.Create(bits);
        var request = new CertificateRequest($"C=DE, O=Nextcloud, CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return (request.CreateSigningRequestPem(), key);
    }

    private static Dictionary<string, string> P(string name, string value) => new() { [name] = value };

    [Fact]
    public async Task A_CSR_becomes_a_certificate_a_Nextcloud_client_verifies_against_the_server_key()
    {
        var user = NewUser("alice");
        var ocs = OcsClient.For(system, user);
        var (csr, key) = Csr(user);

        var issued = await ocs.PostAsync("public-key", P("csr", csr));
        var serverKey = await ocs.GetAsync("server-key");

        Assert.Equal(HttpStatusCode.OK, issued.Status);
        var certificatePem = issued.Data.GetProperty("public-key").GetString()!;
        NextcloudClientChecks.VerifyCertificateAgainstServerKey(certificatePem, serverKey.Data.GetProperty("public-key").GetString()!);
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        Assert.Equal(certificate.SubjectName.Name, certificate.IssuerName.Name);
        using var withKey = certificate.CopyWithPrivateKey(key);
        NextcloudClientChecks.SignAndVerifyCms(Encoding.ASCII.GetBytes(Convert.ToBase64String("{\"metadata\":{}}"u8.ToArray())), withKey, user);
    }

    [Fact]
    public async Task The_server_key_is_an_RSA_SubjectPublicKeyInfo_PEM_and_stays_the_same()
    {
        var ocs = OcsClient.For(system, NewUser());

        var first = (await ocs.GetAsync("server-key")).Data.GetProperty("public-key").GetString()!;
        var second = (await ocs.GetAsync("server-key")).Data.GetProperty("public-key").GetString()!;

        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", first);
        using var rsa = RSA.Create();
        rsa.ImportFromPem(first);
        Assert.Equal(2048, rsa.KeySize);
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("aliceLegacy")]
    [InlineData("alice")]
    [InlineData("bob")]
    public async Task A_real_clients_private_key_and_certificate_come_back_byte_for_byte_and_open_with_the_mnemonic(string vector)
    {
        var user = Vectors.Load("e2ee-app-v2/private-keys.json").GetProperty(vector);
        var userId = user.GetProperty("userId").GetString()!;
        var blob = user.GetProperty("serverString").GetString()!;
        var certificatePem = user.GetProperty("certificatePem").GetString()!;
        // Each vector user in a tenant of its own, so alice and aliceLegacy do not meet.
        var tenant = vector switch { "aliceLegacy" => TestTenants.TenantB, _ => TestTenants.TenantA };
        var ocs = OcsClient.For(system, userId, tenant);
        await ocs.ResetKeysAsync();

        Assert.Equal(HttpStatusCode.OK, (await ocs.PostAsync("private-key", P("privateKey", blob))).Status);
        Assert.Equal(HttpStatusCode.OK, (await ocs.PutAsync("public-key", P("publicKey", certificatePem))).Status);
        var storedBlob = (await ocs.GetAsync("private-key")).Data.GetProperty("private-key").GetString();
        var storedCertificate = (await ocs.GetAsync("public-key")).Data.GetProperty("public-keys").GetProperty(userId).GetString();

        Assert.Equal(blob, storedBlob);
        Assert.Equal(certificatePem, storedCertificate);
        var privateKeyPem = NextcloudClientChecks.DecryptPrivateKeyBlob(storedBlob!, user.GetProperty("mnemonic").GetString()!);
        using var privateKey = RSA.Create();
        privateKey.ImportFromPem(privateKeyPem);
        using var certificate = X509Certificate2.CreateFromPem(storedCertificate!);
        Assert.Equal(certificate.GetRSAPublicKey()!.ExportSubjectPublicKeyInfo(), privateKey.ExportSubjectPublicKeyInfo());
    }

    [Theory]
    [InlineData(OcsClient.Body.Query)]
    [InlineData(OcsClient.Body.Form)]
    [InlineData(OcsClient.Body.Json)]
    public async Task Parameters_are_read_from_the_query_a_form_or_a_JSON_body(OcsClient.Body body)
    {
        var ocs = OcsClient.For(system, NewUser());

        var stored = await ocs.PostAsync("private-key", P("privateKey", ValidBlob), body);

        Assert.Equal(HttpStatusCode.OK, stored.Status);
        Assert.Equal(ValidBlob, stored.Data.GetProperty("private-key").GetString());
    }

    // vectors/server-behaviour: POST private-key.
    [Theory]
    [InlineData("INVALID-BASE64-KEY|QkJCQkJCQkJCQkJC|QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")]
    [InlineData("TVktU0VDUkVULVBSSVZBVEUtS0VZ|INVALID|QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")]
    [InlineData("TVktU0VDUkVULVBSSVZBVEUtS0VZ|QkJCQkJCQkJCQkJC|INVALID")]
    [InlineData("TVktU0VDUkVULVBSSVZBVEUtS0VZ|QkJCQkI=|QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")]
    [InlineData("TVktU0VDUkVULVBSSVZBVEUtS0VZ|QkJCQkJCQkJCQkJC|QUFBQUFBQUFBQQ==")]
    [InlineData("")]
    public async Task A_malformed_private_key_is_400_Invalid_private_key_format_and_nothing_is_stored(string blob)
    {
        var ocs = OcsClient.For(system, NewUser());

        var refused = await ocs.PostAsync("private-key", P("privateKey", blob));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("Invalid private key format", refused.MetaMessage);
        Assert.True(refused.DataIsEmptyArray);
        Assert.Equal(HttpStatusCode.NotFound, (await ocs.GetAsync("private-key")).Status);
    }

    [Fact]
    public async Task A_second_private_key_is_409_and_the_first_is_kept()
    {
        var ocs = OcsClient.For(system, NewUser());
        await ocs.PostAsync("private-key", P("privateKey", ValidBlob));
        var other = $"{B64("ANOTHER")}|{B64(new string('C', 12))}|{B64(new string('D', 40))}";

        var second = await ocs.PostAsync("private-key", P("privateKey", other));

        Assert.Equal(HttpStatusCode.Conflict, second.Status);
        Assert.True(second.DataIsEmptyArray);
        Assert.Equal(ValidBlob, (await ocs.GetAsync("private-key")).Data.GetProperty("private-key").GetString());
    }

    // vectors/server-behaviour: GET private-key.
    [Fact]
    public async Task No_private_key_is_404_with_the_message_in_data()
    {
        var missing = await OcsClient.For(system, NewUser()).GetAsync("private-key");

        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal("Could not find the private key", missing.DataMessage);
        Assert.Equal("", missing.MetaMessage);
    }

    [Fact]
    public async Task Deleting_a_private_key_succeeds_also_when_there_is_none_and_it_is_gone()
    {
        var ocs = OcsClient.For(system, NewUser());
        await ocs.PostAsync("private-key", P("privateKey", ValidBlob));

        Assert.Equal(HttpStatusCode.OK, (await ocs.DeleteAsync("private-key")).Status);
        Assert.Equal(HttpStatusCode.OK, (await ocs.DeleteAsync("private-key")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ocs.GetAsync("private-key")).Status);
        Assert.Equal(HttpStatusCode.OK, (await ocs.PostAsync("private-key", P("privateKey", ValidBlob))).Status);
    }

    [Fact]
    public async Task One_user_never_reads_another_users_private_key()
    {
        var alice = OcsClient.For(system, NewUser("alice"));
        var bob = OcsClient.For(system, NewUser("bob"));
        await alice.PostAsync("private-key", P("privateKey", ValidBlob));

        var bobsView = await bob.GetAsync("private-key");

        Assert.Equal(HttpStatusCode.NotFound, bobsView.Status);
        Assert.DoesNotContain(ValidBlob, bobsView.Text);
    }

    // vectors/server-behaviour and reference §a.2: POST public-key.
    [Fact]
    public async Task A_CSR_for_someone_else_is_403_Common_name_does_not_match()
    {
        var ocs = OcsClient.For(system, NewUser());

        var refused = await ocs.PostAsync("public-key", P("csr", Csr("Somebody-Else").Pem));

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("Common name (CN) does not match the current user", refused.MetaMessage);
    }

    [Fact]
    public async Task An_unparsable_CSR_is_400_with_the_reference_message()
    {
        var refused = await OcsClient.For(system, NewUser()).PostAsync("public-key", P("csr", "-----BEGIN CERTIFICATE REQUEST-----\ngarbage\n-----END CERTIFICATE REQUEST-----"));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("Could not parse the CSR, please make sure to submit a valid CSR", refused.MetaMessage);
    }

    [Fact]
    public async Task A_weak_key_is_refused_with_a_reason()
    {
        var user = NewUser();

        var refused = await OcsClient.For(system, user).PostAsync("public-key", P("csr", Csr(user, bits: 1024).Pem));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("2048", refused.MetaMessage);
    }

    [Fact]
    public async Task A_second_certificate_is_409_before_the_CSR_is_even_read()
    {
        var user = NewUser();
        var ocs = OcsClient.For(system, user);
        var first = await ocs.PostAsync("public-key", P("csr", Csr(user).Pem));

        var again = await ocs.PostAsync("public-key", P("csr", "not even a CSR"));
        var stored = await ocs.PutAsync("public-key", P("publicKey", first.Data.GetProperty("public-key").GetString()!));

        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.True(again.DataIsEmptyArray);
        Assert.Equal(HttpStatusCode.Conflict, stored.Status);
    }

    [Fact]
    public async Task Two_concurrent_creates_for_one_user_leave_exactly_one_certificate()
    {
        var user = NewUser();
        var ocs = OcsClient.For(system, user);

        var replies = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ocs.PostAsync("public-key", P("csr", Csr(user).Pem))));

        var winner = Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
        Assert.All(replies.Where(r => r != winner), r => Assert.Equal(HttpStatusCode.Conflict, r.Status));
        var stored = (await ocs.GetAsync("public-key")).Data.GetProperty("public-keys").GetProperty(user).GetString();
        Assert.Equal(winner.Data.GetProperty("public-key").GetString(), stored);
    }

    // PUT public-key.
    [Fact]
    public async Task Storing_something_that_is_not_a_certificate_is_400_Invalid_public_key_format()
    {
        var refused = await OcsClient.For(system, NewUser()).PutAsync("public-key", P("publicKey", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("Invalid public key format", refused.MetaMessage);
    }

    [Fact]
    public async Task Storing_another_users_certificate_is_400_Common_name_does_not_match()
    {
        var bobsCertificate = Vectors.Load("e2ee-app-v2/private-keys.json").GetProperty("bob").GetProperty("certificatePem").GetString()!;

        var refused = await OcsClient.For(system, NewUser()).PutAsync("public-key", P("publicKey", bobsCertificate));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("Common name (CN) does not match the current user", refused.MetaMessage);
    }

    // GET public-key.
    [Fact]
    public async Task Public_keys_of_listed_users_come_with_the_callers_own()
    {
        var alice = NewUser("alice");
        var bob = NewUser("bob");
        await OcsClient.For(system, alice).PostAsync("public-key", P("csr", Csr(alice).Pem));
        var bobs = OcsClient.For(system, bob);
        await bobs.PostAsync("public-key", P("csr", Csr(bob).Pem));

        var keys = await bobs.GetAsync("public-key", P("users", $"[\"{alice}\"]"));

        Assert.Equal(HttpStatusCode.OK, keys.Status);
        var publicKeys = keys.Data.GetProperty("public-keys");
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", publicKeys.GetProperty(alice).GetString());
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", publicKeys.GetProperty(bob).GetString());
    }

    [Fact]
    public async Task The_first_missing_public_key_is_404_naming_the_user()
    {
        var user = NewUser();
        var ocs = OcsClient.For(system, user);
        await ocs.PostAsync("public-key", P("csr", Csr(user).Pem));

        var missing = await ocs.GetAsync("public-key", P("users", "[\"nobody-here\",\"nobody-either\"]"));

        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal("Could not find the public key belonging to the user nobody-here", missing.MetaMessage);
    }

    [Fact]
    public async Task A_users_list_that_is_not_JSON_is_400_Cannot_decode_userlist()
    {
        var refused = await OcsClient.For(system, NewUser()).GetAsync("public-key", P("users", "alice,bob"));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("Cannot decode userlist", refused.MetaMessage);
    }

    [Fact]
    public async Task Deleting_a_certificate_lets_a_new_one_be_issued()
    {
        var user = NewUser();
        var ocs = OcsClient.For(system, user);
        await ocs.PostAsync("public-key", P("csr", Csr(user).Pem));

        Assert.Equal(HttpStatusCode.OK, (await ocs.DeleteAsync("public-key")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ocs.GetAsync("public-key")).Status);
        Assert.Equal(HttpStatusCode.OK, (await ocs.PostAsync("public-key", P("csr", Csr(user).Pem))).Status);
    }

    // Tenancy.
    [Fact]
    public async Task Tenant_B_never_sees_tenant_As_keys_and_has_its_own_CA()
    {
        var user = NewUser("carol");
        var inA = OcsClient.For(system, user, TestTenants.TenantA);
        var inB = OcsClient.For(system, user, TestTenants.TenantB);
        await inA.PostAsync("private-key", P("privateKey", ValidBlob));
        var certificateInA = await inA.PostAsync("public-key", P("csr", Csr(user).Pem));

        Assert.Equal(HttpStatusCode.NotFound, (await inB.GetAsync("private-key")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await inB.GetAsync("public-key")).Status);
        var certificateInB = await inB.PostAsync("public-key", P("csr", Csr(user).Pem));
        Assert.Equal(HttpStatusCode.OK, certificateInB.Status);

        var serverKeyA = (await inA.GetAsync("server-key")).Data.GetProperty("public-key").GetString()!;
        var serverKeyB = (await inB.GetAsync("server-key")).Data.GetProperty("public-key").GetString()!;
        Assert.NotEqual(serverKeyA, serverKeyB);
        Assert.ThrowsAny<Exception>(() => NextcloudClientChecks.VerifyCertificateAgainstServerKey(certificateInA.Data.GetProperty("public-key").GetString()!, serverKeyB));
    }

    // Envelopes, versions, clients.
    [Theory]
    [InlineData("/ocs/v2.php", "v1")]
    [InlineData("/ocs/v1.php", "v1")]
    [InlineData("/ocs/v1.php", "v2")]
    public async Task Every_entry_point_and_API_version_serves_the_key_endpoints(string entry, string api)
    {
        var ocs = OcsClient.For(system, NewUser(), entry: entry, api: api);

        var missing = await ocs.GetAsync("private-key");
        var serverKey = await ocs.GetAsync("server-key");

        if (entry == "/ocs/v1.php")
        {
            Assert.Equal(HttpStatusCode.OK, missing.Status);
            Assert.Equal(404, missing.StatusCode);
            Assert.Equal(100, serverKey.StatusCode);
            Assert.Equal("", serverKey.Meta.GetProperty("totalitems").GetString());
        }
        else
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.Status);
            Assert.Equal(200, serverKey.StatusCode);
        }
    }

    [Fact]
    public async Task An_unsupported_client_is_403_naming_it()
    {
        var ocs = OcsClient.For(system, NewUser(), userAgent: "Mozilla/5.0 (Linux) mirall/2.6.0");

        var refused = await ocs.GetAsync("server-key");

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("Client \"Mozilla/5.0 (Linux) mirall/2.6.0\" is not allowed to access end-to-end encrypted content.", refused.MetaMessage);
    }

    [Fact]
    public async Task A_current_desktop_client_is_served_by_its_user_agent_alone()
    {
        var ocs = OcsClient.For(system, NewUser(), userAgent: "Mozilla/5.0 (Linux) mirall/3.13.0");

        Assert.Equal(HttpStatusCode.OK, (await ocs.GetAsync("server-key")).Status);
    }

    [Theory]
    [InlineData("/ocs/v1.php/cloud/capabilities")]
    [InlineData("/ocs/v2.php/cloud/capabilities")]
    public async Task Capabilities_say_api_2_0_and_whether_the_callers_keys_exist(string path)
    {
        var user = NewUser();
        var ocs = OcsClient.For(system, user);

        async Task<bool> KeysExist()
        {
            var reply = await ocs.Http.GetStringAsync(path);
            var block = System.Text.Json.JsonDocument.Parse(reply).RootElement.GetProperty("ocs").GetProperty("data").GetProperty("capabilities").GetProperty("end-to-end-encryption");
            Assert.True(block.GetProperty("enabled").GetBoolean());
            Assert.Equal("2.1", block.GetProperty("api-version").GetString());
            return block.GetProperty("keys-exist").GetBoolean();
        }

        Assert.False(await KeysExist());
        await ocs.PostAsync("public-key", P("csr", Csr(user).Pem));
        Assert.False(await KeysExist());
        await ocs.PostAsync("private-key", P("privateKey", ValidBlob));
        Assert.True(await KeysExist());
    }

    [Fact]
    public async Task An_OCS_call_without_a_token_is_401_in_the_OCS_envelope()
    {
        using var anonymous = system.Http(system.Gateway);

        using var response = await anonymous.GetAsync("/ocs/v2.php/apps/end_to_end_encryption/api/v2/server-key?format=json");
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(997, body.GetProperty("ocs").GetProperty("meta").GetProperty("statuscode").GetInt32());
        Assert.StartsWith("no bearer token", body.GetProperty("ocs").GetProperty("meta").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("", "*/*")]
    [InlineData("", "text/xml")]
    [InlineData("?format=xml", "application/json")]
    public async Task OCS_answers_are_XML_unless_JSON_is_asked_for_as_Nextcloud_answers(string query, string? accept)
    {
        var ocs = OcsClient.For(system, "xml-reader", TestTenants.TenantA);
        using var request = new HttpRequestMessage(HttpMethod.Get, ocs.PathOf("private-key") + query);
        request.Headers.Accept.Clear();
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        ocs.Http.DefaultRequestHeaders.Accept.Clear();
        using var response = await ocs.Http.SendAsync(request);
        var body = System.Xml.Linq.XDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("application/xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("failure", body.Root!.Element("meta")!.Element("status")!.Value);
        Assert.Equal("404", body.Root.Element("meta")!.Element("statuscode")!.Value);
        Assert.Equal("Could not find the private key", body.Root.Element("data")!.Element("message")!.Value);
    }
}
