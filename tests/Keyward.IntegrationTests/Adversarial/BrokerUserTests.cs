using Keyward.IntegrationTests.Infrastructure;
using Keyward.LocalServices;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Keyward.IntegrationTests.Adversarial;

/// <summary>
/// Least privilege on the broker: each service has its own user. A producer can publish audit events but not read the
/// audit queue; the audit service can read its queue but never publish an audit event.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class BrokerUserTests(KeywardSystem system)
{
    private const string AuditExchange = "Keyward.AuditTrail:AuditEvent";
    private const string AuditQueue = "keyward-audit-events";

    [Theory]
    [InlineData("keyserver")]
    [InlineData("metadata")]
    [InlineData("gateway")]
    [InlineData("certificate-authority")]
    public async Task A_producer_cannot_read_the_audit_queue(string service)
    {
        await using var connection = await ConnectAsync(service);
        await using var channel = await connection.CreateChannelAsync();

        var refused = await Assert.ThrowsAnyAsync<OperationInterruptedException>(() => channel.BasicGetAsync(AuditQueue, autoAck: false));

        Assert.Equal((ushort)403, refused.ShutdownReason!.ReplyCode);
    }

    [Fact]
    public async Task The_audit_service_cannot_publish_an_audit_event()
    {
        await using var connection = await ConnectAsync("audit");
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));

        var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await channel.BasicPublishAsync(AuditExchange, "", "{\"forged\":true}"u8.ToArray());
            // Publishing is asynchronous: the refusal arrives as the channel's closing.
            await Task.Delay(500);
            await channel.BasicGetAsync(AuditQueue, autoAck: false);
        });

        Assert.Contains("ACCESS_REFUSED", refused.ToString());
    }

    [Fact]
    public async Task The_running_services_connect_as_their_own_users()
    {
        Assert.All(new[] { "keyserver", "metadata", "audit" }, service =>
            Assert.Contains($"amqp://{ServiceEnvironment.ServiceAccount(service)}:", system.EnvironmentOf(service).Single(e => e.Key == "ConnectionStrings__RabbitMq").Value));
        await using var connection = await ConnectAsync("audit");
        await using var channel = await connection.CreateChannelAsync();
        Assert.True((await channel.QueueDeclarePassiveAsync(AuditQueue)).ConsumerCount >= 1);
    }

    private Task<IConnection> ConnectAsync(string service) =>
        new ConnectionFactory { Uri = new Uri(ServiceEnvironment.AsServiceUser(system.Stack.RabbitMq, service, system.Stack.Values.Required("KEYWARD_RABBITMQ_SERVICE_PASSWORD"))) }
            .CreateConnectionAsync();
}
