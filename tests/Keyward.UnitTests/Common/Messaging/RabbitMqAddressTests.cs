using Keyward.Common.Messaging;

namespace Keyward.UnitTests.Common.Messaging;

public sealed class RabbitMqAddressTests
{
    [Fact]
    public void A_full_address_gives_host_port_vhost_and_credentials()
    {
        var address = RabbitMqAddress.Parse("amqp://keyward:s%40cret@broker.internal:5673/keyward_test");

        Assert.Equal(new RabbitMqAddress("broker.internal", 5673, "keyward_test", "keyward", "s@cret"), address);
    }

    [Fact]
    public void Defaults_are_the_root_vhost_port_5672_and_guest()
    {
        Assert.Equal(new RabbitMqAddress("localhost", 5672, "/", "guest", "guest"), RabbitMqAddress.Parse("amqp://localhost/"));
    }

    [Theory]
    [InlineData("localhost:5672")]
    [InlineData("http://localhost:5672/")]
    public void Anything_else_is_refused_with_the_expected_form(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RabbitMqAddress.Parse(value));

        Assert.Contains("amqp://user:password@host:port/vhost", error.Message);
    }
}
