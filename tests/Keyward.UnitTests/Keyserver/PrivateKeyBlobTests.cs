using System.Text;
using Keyward.Keyserver.Core;
using Keyward.Tests.Shared;

namespace Keyward.UnitTests.Keyserver;

public sealed class PrivateKeyBlobTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.ASCII.GetBytes(s));

    private static readonly string Key = B64("MY-SECRET-PRIVATE-KEY");
    private static readonly string Nonce = B64(new string('B', 12));
    private static readonly string Salt = B64(new string('A', 40));

    [Fact]
    public void The_reference_valid_case_is_well_formed()
    {
        Assert.True(PrivateKeyBlob.IsWellFormed($"{Key}|{Nonce}|{Salt}"));
    }

    // The cases of the reference server's KeyControllerTest (vectors/server-behaviour), and a few more.
    [Theory]
    [InlineData("INVALID-BASE64-KEY|{nonce}|{salt}")]
    [InlineData("{key}|INVALID-BASE64-NONCE|{salt}")]
    [InlineData("{key}|{nonce}|INVALID-BASE64-SALT")]
    [InlineData("{key}|QkJCQkI=|{salt}")]
    [InlineData("{key}|{nonce}|QUFBQUFBQUFBQQ==")]
    [InlineData("{key}|{nonce}")]
    [InlineData("{key}|{nonce}|{salt}|{salt}")]
    [InlineData("{key}fA=={nonce}fA=={salt}")]
    [InlineData("|{nonce}|{salt}")]
    [InlineData("{key} |{nonce}|{salt}")]
    [InlineData("{key}|{nonce}|{salt}\n")]
    [InlineData("")]
    public void Anything_else_is_refused(string template)
    {
        var blob = template.Replace("{key}", Key).Replace("{nonce}", Nonce).Replace("{salt}", Salt);

        Assert.False(PrivateKeyBlob.IsWellFormed(blob));
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("aliceLegacy")]
    [InlineData("alice")]
    [InlineData("bob")]
    public void Every_blob_a_Nextcloud_client_stored_is_well_formed(string user)
    {
        var blob = Vectors.Load("e2ee-app-v2/private-keys.json").GetProperty(user).GetProperty("serverString").GetString();

        Assert.True(PrivateKeyBlob.IsWellFormed(blob));
    }

    [Fact]
    public void An_oversized_blob_is_refused()
    {
        Assert.False(PrivateKeyBlob.IsWellFormed($"{B64(new string('x', 70_000))}|{Nonce}|{Salt}"));
    }
}
