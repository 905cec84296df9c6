using System.Text.Json.Nodes;
using Keyward.Gateway.Core;

namespace Keyward.UnitTests.Gateway;

public sealed class OcsEnvelopeTests
{
    [Fact]
    public void A_v2_success_keeps_the_status_and_says_OK()
    {
        var (status, body) = OcsEnvelope.Render(OcsFlavor.V2, OcsAnswer.Ok(new JsonObject { ["private-key"] = "k|i|s" }));

        Assert.Equal(200, status);
        Assert.Equal("""{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":{"private-key":"k|i|s"}}}""", body.ToJsonString());
    }

    [Fact]
    public void A_v1_success_is_statuscode_100_with_empty_paging_fields()
    {
        var (status, body) = OcsEnvelope.Render(OcsFlavor.V1, OcsAnswer.OkEmpty());

        Assert.Equal(200, status);
        Assert.Equal("""{"ocs":{"meta":{"status":"ok","statuscode":100,"message":"OK","totalitems":"","itemsperpage":""},"data":[]}}""", body.ToJsonString());
    }

    [Fact]
    public void A_thrown_error_has_an_empty_array_and_the_text_in_meta()
    {
        var (status, body) = OcsEnvelope.Render(OcsFlavor.V2, OcsAnswer.Thrown(400, "Invalid private key format"));

        Assert.Equal(400, status);
        Assert.Equal("""{"ocs":{"meta":{"status":"failure","statuscode":400,"message":"Invalid private key format"},"data":[]}}""", body.ToJsonString());
    }

    [Fact]
    public void A_returned_error_has_the_text_in_data_and_an_empty_meta_message()
    {
        var (status, body) = OcsEnvelope.Render(OcsFlavor.V2, OcsAnswer.Returned(404, "Could not find the private key"));

        Assert.Equal(404, status);
        Assert.Equal("""{"ocs":{"meta":{"status":"failure","statuscode":404,"message":""},"data":{"message":"Could not find the private key"}}}""", body.ToJsonString());
    }

    [Fact]
    public void A_v1_error_is_HTTP_200_with_the_real_code_inside()
    {
        var (status, body) = OcsEnvelope.Render(OcsFlavor.V1, OcsAnswer.Bare(409));

        Assert.Equal(200, status);
        Assert.Equal(409, body["ocs"]!["meta"]!["statuscode"]!.GetValue<int>());
        Assert.Equal("failure", body["ocs"]!["meta"]!["status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(OcsFlavor.V1)]
    [InlineData(OcsFlavor.V2)]
    public void Not_logged_in_is_HTTP_401_with_statuscode_997_in_both_flavors(OcsFlavor flavor)
    {
        var (status, body) = OcsEnvelope.Render(flavor, OcsAnswer.Unauthorised("the token expired"));

        Assert.Equal(401, status);
        Assert.Equal(997, body["ocs"]!["meta"]!["statuscode"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("json", null, true)]
    [InlineData("xml", "application/json", false)]
    [InlineData(null, "application/json", true)]
    [InlineData(null, "application/json, text/plain, */*", true)]
    [InlineData(null, "text/html, application/xml;q=0.9, application/json", false)]
    [InlineData(null, "*/*", false)]
    [InlineData(null, null, false)]
    public void The_body_is_JSON_only_when_the_format_or_the_first_json_or_xml_Accept_entry_asks(string? format, string? accept, bool json) =>
        Assert.Equal(json, OcsEnvelope.WantsJson(format, accept));

    [Fact]
    public void The_XML_envelope_follows_Nextclouds_rules_for_maps_lists_booleans_and_odd_keys()
    {
        var data = new System.Text.Json.Nodes.JsonObject
        {
            ["public-keys"] = new System.Text.Json.Nodes.JsonObject { ["alice@example.org"] = "PEM" },
            ["users"] = new System.Text.Json.Nodes.JsonArray("a", "b"),
            ["keys-exist"] = true,
            ["enabled"] = false,
            ["counter"] = 7,
        };
        var (_, body) = OcsEnvelope.Render(OcsFlavor.V1, OcsAnswer.Ok(data));

        var xml = OcsEnvelope.RenderXml(body);

        Assert.StartsWith("<?xml version=\"1.0\"?>\n<ocs>\n <meta>\n  <status>ok</status>\n  <statuscode>100</statuscode>", xml);
        var root = System.Xml.Linq.XDocument.Parse(xml).Root!;
        var parsed = root.Element("data")!;
        Assert.Equal("PEM", parsed.Element("public-keys")!.Element(System.Xml.XmlConvert.EncodeLocalName("alice@example.org"))!.Value);
        Assert.Equal(["a", "b"], parsed.Element("users")!.Elements("element").Select(e => e.Value));
        Assert.Equal("1", parsed.Element("keys-exist")!.Value);
        Assert.Equal("", parsed.Element("enabled")!.Value);
        Assert.Equal("7", parsed.Element("counter")!.Value);
        Assert.Equal("", root.Element("meta")!.Element("totalitems")!.Value);
    }
}
