using System.Text.Json.Nodes;
using Keyward.Gateway.Core;

namespace Keyward.UnitTests.Gateway;

public sealed class OcsEnvelopeTests
{
    [Fact]
    public void A_v2_success_keeps_the_status_and_says_OK()
    {
        var answer = OcsAnswer.Ok(new JsonObject { ["private-key"] = "k|i|s" });
        var (status, body) = (OcsEnvelope.HttpStatus(OcsFlavor.V2, answer), OcsEnvelope.RenderJson(OcsFlavor.V2, answer));

        Assert.Equal(200, status);
        Assert.Equal("""{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":{"private-key":"k|i|s"}}}""", body);
    }

    [Fact]
    public void A_v1_success_is_statuscode_100_with_empty_paging_fields()
    {
        var answer = OcsAnswer.OkEmpty();
        var (status, body) = (OcsEnvelope.HttpStatus(OcsFlavor.V1, answer), OcsEnvelope.RenderJson(OcsFlavor.V1, answer));

        Assert.Equal(200, status);
        Assert.Equal("""{"ocs":{"meta":{"status":"ok","statuscode":100,"message":"OK","totalitems":"","itemsperpage":""},"data":[]}}""", body);
    }

    [Fact]
    public void A_thrown_error_has_an_empty_array_and_the_text_in_meta()
    {
        var answer = OcsAnswer.Thrown(400, "Invalid private key format");
        var (status, body) = (OcsEnvelope.HttpStatus(OcsFlavor.V2, answer), OcsEnvelope.RenderJson(OcsFlavor.V2, answer));

        Assert.Equal(400, status);
        Assert.Equal("""{"ocs":{"meta":{"status":"failure","statuscode":400,"message":"Invalid private key format"},"data":[]}}""", body);
    }

    [Fact]
    public void A_returned_error_has_the_text_in_data_and_an_empty_meta_message()
    {
        var answer = OcsAnswer.Returned(404, "Could not find the private key");
        var (status, body) = (OcsEnvelope.HttpStatus(OcsFlavor.V2, answer), OcsEnvelope.RenderJson(OcsFlavor.V2, answer));

        Assert.Equal(404, status);
        Assert.Equal("""{"ocs":{"meta":{"status":"failure","statuscode":404,"message":""},"data":{"message":"Could not find the private key"}}}""", body);
    }

    [Fact]
    public void A_v1_error_is_HTTP_200_with_the_real_code_inside()
    {
        var answer = OcsAnswer.Bare(409);
        var (status, body) = (OcsEnvelope.HttpStatus(OcsFlavor.V1, answer), OcsEnvelope.RenderJson(OcsFlavor.V1, answer));

        Assert.Equal(200, status);
        Assert.Equal("""{"ocs":{"meta":{"status":"failure","statuscode":409,"message":"","totalitems":"","itemsperpage":""},"data":[]}}""", body);
    }

    [Theory]
    [InlineData(OcsFlavor.V1)]
    [InlineData(OcsFlavor.V2)]
    public void Not_logged_in_is_HTTP_401_with_statuscode_997_in_both_flavors(OcsFlavor flavor)
    {
        var answer = OcsAnswer.Unauthorised("the token expired");
        var (status, body) = (OcsEnvelope.HttpStatus(flavor, answer), OcsEnvelope.RenderJson(flavor, answer));

        Assert.Equal(401, status);
        Assert.Equal(997, JsonNode.Parse(body)!["ocs"]!["meta"]!["statuscode"]!.GetValue<int>());
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
        var xml = OcsEnvelope.RenderXml(OcsFlavor.V1, OcsAnswer.Ok(data));

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

    [Fact]
    public void The_data_is_written_as_it_is_and_stays_usable_for_another_response()
    {
        // The answer's data is not moved into an envelope tree: the same node can be written twice.
        var data = new JsonObject { ["public-keys"] = new JsonObject { ["bob"] = "-----BEGIN PUBLIC KEY-----\nAB+/==\n-----END PUBLIC KEY-----\n" } };
        var answer = OcsAnswer.Ok(data);

        var first = OcsEnvelope.RenderJson(OcsFlavor.V2, answer, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
        var second = OcsEnvelope.RenderJson(OcsFlavor.V2, answer, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping);

        Assert.Equal(first, second);
        Assert.Equal("""{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":{"public-keys":{"bob":"-----BEGIN PUBLIC KEY-----\nAB+/==\n-----END PUBLIC KEY-----\n"}}}}""", first);
        Assert.Null(data.Parent);
    }
}
