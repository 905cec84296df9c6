using Keyward.Common.Health;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Keyward.Common.Messaging;

public static class MessagingDefaults
{
    public const string ConnectionStringName = "RabbitMq";

    /// <summary>
    /// MassTransit on RabbitMQ (publisher confirms are on by default in 8.x). The bus connects in the
    /// background and reconnects by itself; its health check joins readiness.
    /// </summary>
    public static WebApplicationBuilder AddKeywardMessaging(this WebApplicationBuilder builder, Action<IBusRegistrationConfigurator>? configure = null)
    {
        var broker = RabbitMqAddress.Parse(builder.Configuration.GetConnectionString(ConnectionStringName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionStringName} is not configured."));

        builder.Services.AddMassTransit(bus =>
        {
            configure?.Invoke(bus);
            bus.ConfigureHealthCheckOptions(o =>
            {
                o.Name = "rabbitmq";
                o.Tags.Add(HealthDefaults.ReadyTag);
            });
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(broker.Host, broker.Port, broker.VirtualHost, host =>
                {
                    host.Username(broker.User);
                    host.Password(broker.Password);
                    host.RequestedConnectionTimeout(TimeSpan.FromSeconds(5));
                });
                // The broker checks user_id against the connection's user, so a consumer can trust who published.
                rabbit.ConfigurePublish(publish => publish.UseExecute(send =>
                {
                    if (send.TryGetPayload<RabbitMqSendContext>(out var rabbitSend))
                    {
                        rabbitSend.BasicProperties.UserId = broker.User;
                    }
                }));
                rabbit.ConfigureEndpoints(context);
            });
        });
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false;
            o.StopTimeout = TimeSpan.FromSeconds(10);
        });
        return builder;
    }
}

/// <summary>An <c>amqp://user:password@host:port/vhost</c> address.</summary>
public sealed record RabbitMqAddress(string Host, ushort Port, string VirtualHost, string User, string Password)
{
    public static RabbitMqAddress Parse(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "rabbitmq"))
        {
            throw new InvalidOperationException("The RabbitMQ connection string must look like amqp://user:password@host:port/vhost.");
        }

        var credentials = uri.UserInfo.Split(':', 2);
        var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        return new RabbitMqAddress(
            uri.Host,
            (ushort)(uri.IsDefaultPort || uri.Port < 0 ? 5672 : uri.Port),
            vhost.Length == 0 ? "/" : vhost,
            credentials.Length > 0 && credentials[0].Length > 0 ? Uri.UnescapeDataString(credentials[0]) : "guest",
            credentials.Length > 1 ? Uri.UnescapeDataString(credentials[1]) : "guest");
    }
}
