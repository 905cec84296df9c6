using System.Diagnostics;
using Keyward.AuditTrail;
using MassTransit;
using Npgsql;

namespace Keyward.Bench;

/// <summary>
/// P3: audit events per second end to end (published → chained and committed by the audit service), next to
/// raw MassTransit publish-with-confirm per second on the same broker, published the same way.
/// </summary>
public static class AuditThroughput
{
    private const int PublishWindow = 500;

    public static async Task<IReadOnlyList<BenchFigure>> RunAsync(StackEnvironment stack, int events)
    {
        var rabbit = new Uri(stack["KEYWARD_RABBITMQ_BENCH"]);
        Console.WriteLine($"P3: {events:N0} events; reference: raw publish-with-confirm of as many messages");

        var raw = await RawPublishRateAsync(rabbit, events);
        Console.WriteLine($"    raw MassTransit publish with confirm: {raw:N0} msg/s");

        await using var audit = await ServiceUnderBench.StartAsync(stack, "audit", new Dictionary<string, string>
        {
            // No CA: P3 measures integration into the tree alone (P8 adds the signed checkpoints).
            ["Keyward__Services__certificate-authority"] = "http://127.0.0.1:9",
        });
        // Warm-up passes until the audit service's JIT has settled, as the raw publish gets one too.
        for (var pass = 1; pass <= 6; pass++)
        {
            var compiledBefore = audit.MethodsCompiled();
            await EndToEndRateAsync(stack, rabbit, stack["KEYWARD_POSTGRES_BENCH"], $"warm-{Guid.NewGuid():N}"[..20], events);
            var compiled = audit.MethodsCompiled() - compiledBefore;
            Console.WriteLine($"    warm-up pass {pass}: {compiled} methods compiled");
            if (compiled < 25)
            {
                break;
            }
        }

        var tenant = $"bench-{Guid.NewGuid():N}"[..20];
        var compiledBeforeRun = audit.MethodsCompiled();
        var single = await EndToEndRateAsync(stack, rabbit, stack["KEYWARD_POSTGRES_BENCH"], tenant, events);
        var compiledDuringRun = audit.MethodsCompiled() - compiledBeforeRun;
        Console.WriteLine($"    audit end to end, one message per event (published → chained): {single:N0} events/s  [tenant {tenant}]");
        // As the services' outbox relays publish: a batch of up to 500 events per message.
        var batchedTenant = $"bench-{Guid.NewGuid():N}"[..20];
        await EndToEndRateAsync(stack, rabbit, stack["KEYWARD_POSTGRES_BENCH"], $"warm-{Guid.NewGuid():N}"[..20], events, RelayBatch);
        var batched = await EndToEndRateAsync(stack, rabbit, stack["KEYWARD_POSTGRES_BENCH"], batchedTenant, events, RelayBatch);
        Console.WriteLine($"    audit end to end, {RelayBatch} events per message (published → chained): {batched:N0} events/s  [tenant {batchedTenant}]");
        return
        [
            new BenchFigure("P3", "audit events chained per second, end to end, published as the outbox relays do", "events/s", batched,
                "raw MassTransit publish-with-confirm (one message each)", raw, $"{events} events in batches of {RelayBatch} per message, after warm-up"),
            new BenchFigure("P3-single", "audit events chained per second, end to end, one message per event", "events/s", single,
                "raw MassTransit publish-with-confirm", raw, $"{events} events, publish window {PublishWindow}, audit batch 1000, after warm-up; {compiledDuringRun} methods compiled during the run"),
        ];
    }

    /// <summary>The outbox relays' batch (Keyward:Audit:Outbox:BatchSize).</summary>
    private const int RelayBatch = 500;

    internal static async Task<double> RawPublishRateAsync(Uri rabbit, int count)
    {
        var received = 0;
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            Host(cfg, rabbit);
            cfg.ReceiveEndpoint("keyward-bench-sink", e =>
            {
                e.PrefetchCount = 2000;
                e.Handler<BenchPing>(_ =>
                {
                    Interlocked.Increment(ref received);
                    return Task.CompletedTask;
                });
            });
        });
        await bus.StartAsync();
        try
        {
            var payload = new string('x', 600); // about the size of an audit event
            await PublishAllAsync(count, i => bus.Publish(new BenchPing(i, payload)));
            var stopwatch = Stopwatch.StartNew();
            await PublishAllAsync(count, i => bus.Publish(new BenchPing(i, payload)));
            return count / stopwatch.Elapsed.TotalSeconds;
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    private static async Task<double> EndToEndRateAsync(StackEnvironment stack, Uri rabbit, string postgres, string tenant, int count, int perMessage = 1)
    {
        var bus = LogBenchmarks.MetadataServiceBus(stack, rabbit);
        await bus.StartAsync();
        try
        {
            var start = DateTimeOffset.UtcNow;
            var stopwatch = Stopwatch.StartNew();
            if (perMessage == 1)
            {
                await PublishAllAsync(count, i => bus.Publish(LogBenchmarks.Event(tenant, start, i)));
            }
            else
            {
                // One relay at a time, as each service's relay publishes its next batch after the confirm of the last.
                for (var i = 0; i < count; i += perMessage)
                {
                    await bus.Publish(new AuditEventBatch { Events = Enumerable.Range(i, Math.Min(perMessage, count - i)).Select(n => LogBenchmarks.Event(tenant, start, n)).ToList() });
                }
            }

            var published = stopwatch.Elapsed;
            await using var data = NpgsqlDataSource.Create(postgres);
            long head = 0;
            while (head < count)
            {
                await Task.Delay(20);
                await using var command = data.CreateCommand("select coalesce((select max(size) from audit.log_states where tenant_id = @t and log = 'audit'), 0)");
                command.Parameters.AddWithValue("t", tenant);
                head = (long)(await command.ExecuteScalarAsync())!;
                if (stopwatch.Elapsed > TimeSpan.FromMinutes(5))
                {
                    throw new TimeoutException($"only {head} of {count} events chained after 5 minutes");
                }
            }

            Console.WriteLine($"    (publishing took {published.TotalSeconds:N2} s, chaining finished at {stopwatch.Elapsed.TotalSeconds:N2} s)");
            return count / stopwatch.Elapsed.TotalSeconds;
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    /// <summary>Publishes with a bounded window of unconfirmed messages, as the outbox relay does.</summary>
    private static async Task PublishAllAsync(int count, Func<int, Task> publish)
    {
        for (var i = 0; i < count; i += PublishWindow)
        {
            await Task.WhenAll(Enumerable.Range(i, Math.Min(PublishWindow, count - i)).Select(publish));
        }
    }

    internal static void Host(IRabbitMqBusFactoryConfigurator cfg, Uri rabbit)
    {
        var user = rabbit.UserInfo.Split(':');
        cfg.Host(rabbit.Host, (ushort)rabbit.Port, Uri.UnescapeDataString(rabbit.AbsolutePath.TrimStart('/')) is { Length: > 0 } vhost ? vhost : "/", h =>
        {
            h.Username(user[0]);
            h.Password(user.Length > 1 ? user[1] : "guest");
        });
    }
}

public sealed record BenchPing(int Number, string Payload);
