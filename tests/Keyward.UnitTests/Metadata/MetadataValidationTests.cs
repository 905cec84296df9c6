using System.Text.Json;
using System.Text.Json.Nodes;
using Keyward.Metadata.Core;
using Keyward.Tests.Shared;

namespace Keyward.UnitTests.Metadata;

/// <summary>What the server refuses of a v2 document before storing it (issue #15 §1), each with a reason a client can show.</summary>
public sealed class MetadataValidationTests
{
    private static readonly MetadataLimits Limits = new();
    private static readonly string Root = Vectors.Load("e2ee-app-v2/root-folder-metadata.json").GetProperty("metadataJson").GetRawText();

    [Theory]
    [InlineData("""{"version":"3.0"}""", "version must be the string \"2.0\" or \"2.1\"")]
    [InlineData("""{"version":2.0}""", "version must be the string \"2.0\" or \"2.1\"")]
    [InlineData("""{"version":"2.0"}""", "\"metadata\" must be an object with ciphertext, nonce and authenticationTag")]
    [InlineData("""{"version":"2.0","metadata":{"ciphertext":"not base64!","nonce":"bg==","authenticationTag":"dA=="}}""", "metadata.ciphertext must be base64 (or base64|base64)")]
    [InlineData("""{"version":"2.0","metadata":{"ciphertext":"Yw==|bg==|eA==","nonce":"bg==","authenticationTag":"dA=="}}""", "metadata.ciphertext must be base64 (or base64|base64)")]
    [InlineData("""{"version":"2.0","metadata":{"ciphertext":"Yw==","nonce":"bg\r\n==","authenticationTag":"dA=="}}""", "metadata.nonce must be base64")]
    [InlineData("""{"version":"2.0","metadata":{"ciphertext":"Yw==","nonce":"bg==","authenticationTag":7}}""", "metadata.authenticationTag must be base64")]
    [InlineData("""{"version":"2.0","metadata":{"ciphertext":"Yw==","nonce":"bg==","authenticationTag":"dA=="}}""", "a root folder's metadata must list its users")]
    [InlineData("""{"version":"2.0","metadata":{"ciphertext":"Yw==","nonce":"bg==","authenticationTag":"dA=="},"users":[{"userId":"a","certificate":"x","encryptedMetadataKey":"aw=="}]}""", "user 'a' has no PEM certificate")]
    [InlineData("""{"version":"2.0","metadata":{"ciphertext":"Yw==","nonce":"bg==","authenticationTag":"dA=="},"users":[{"userId":"a","certificate":"-----BEGIN CERTIFICATE-----","encryptedMetadataKey":"k"}]}""", "encryptedMetadataKey of user 'a' must be base64")]
    [InlineData("""{"version":"2.0","metadata":{"ciphertext":"Yw==","nonce":"bg==","authenticationTag":"dA=="},"users":[{"userId":"a","certificate":"-----BEGIN CERTIFICATE-----","encryptedMetadataKey":"aw=="},{"userId":"a","certificate":"-----BEGIN CERTIFICATE-----","encryptedMetadataKey":"aw=="}]}""", "user 'a' is listed twice")]
    [InlineData("""{"version":"2.0","metadata":{"ciphertext":"Yw==","nonce":"bg==","authenticationTag":"dA=="},"users":[{"userId":"a","certificate":"-----BEGIN CERTIFICATE-----","encryptedMetadataKey":"aw=="}],"filedrop":{"e":{"ciphertext":"Yw=="}}}""", "nonce of filedrop entry 'e' must be base64")]
    [InlineData("[1]", "the metadata is not a JSON object")]
    [InlineData("{", "the metadata is not valid JSON")]
    public void A_root_document_is_refused_with_its_reason(string metadata, string reason)
    {
        Assert.Equal(reason, MetadataValidation.Problem(metadata, isRoot: true, Limits));
    }

    [Fact]
    public void A_sub_folder_has_no_users_and_no_filedrop()
    {
        var withUsers = JsonNode.Parse(Root)!.AsObject();
        Assert.Equal("a sub-folder's metadata has no users (it is encrypted with its root folder's key)", MetadataValidation.Problem(withUsers.ToJsonString(), isRoot: false, Limits));
        withUsers.Remove("users");
        withUsers["filedrop"] = new JsonObject();
        Assert.Equal("only a root folder's metadata has a filedrop", MetadataValidation.Problem(withUsers.ToJsonString(), isRoot: false, Limits));
    }

    [Fact]
    public void Version_1_documents_keep_the_reference_behaviour()
    {
        Assert.Null(MetadataValidation.Problem("""{"metadata":{"version":1.2},"files":{}}""", isRoot: true, Limits));
        Assert.Null(MetadataValidation.Problem("""{"version":"1.2"}""", isRoot: true, Limits));
    }

    [Fact]
    public void Limits_on_size_users_and_filedrop_entries_are_kept()
    {
        var large = JsonNode.Parse(Root)!.AsObject();
        large["padding"] = new string('x', 17 * 1024 * 1024);
        Assert.Equal("the metadata is larger than 16,777,216 bytes", MetadataValidation.Problem(large.ToJsonString(), isRoot: true, Limits));

        var small = new MetadataLimits { MaxUsers = 1 };
        Assert.Equal("a folder has at most 1 users", MetadataValidation.Problem(Root, isRoot: true, small));

        var entries = new JsonObject();
        for (var i = 0; i <= 10_000; i++)
        {
            entries[$"e{i}"] = JsonNode.Parse("""{"ciphertext":"Yw==","nonce":"bg==","authenticationTag":"dA==","users":[{"userId":"admin","encryptedFiledropKey":"aw=="}]}""");
        }

        var withFiledrop = JsonNode.Parse(Root)!.AsObject();
        withFiledrop["filedrop"] = entries;
        Assert.Equal("a folder holds at most 10,000 filedrop entries", MetadataValidation.Problem(withFiledrop.ToJsonString(), isRoot: true, Limits));
        using var added = JsonDocument.Parse("""{"e":{"ciphertext":"Yw==","nonce":"bg==","authenticationTag":"dA==","users":[{"userId":"admin","encryptedFiledropKey":"aw=="}]}}""");
        Assert.Null(MetadataValidation.FiledropProblem(added.RootElement, 9_999, Limits));
        Assert.Equal("a folder holds at most 10,000 filedrop entries", MetadataValidation.FiledropProblem(added.RootElement, 10_000, Limits));
    }
}
