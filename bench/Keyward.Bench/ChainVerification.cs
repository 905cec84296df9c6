using System.Diagnostics;
using System.Security.Cryptography;
using Keyward.AuditTrail;
using Npgsql;

namespace Keyward.Bench;

/// <summary>
/// P5: chain verification entries per second as the audit service does it (read from PostgreSQL in order,
/// recompute and compare every hash), next to bare SHA-256 over the same bytes already in memory.
/// </summary>
public static class ChainVerification
{
    public static async Task<BenchFigure> RunAsync(StackEnvironment stack)
    {
        await using var data = NpgsqlDataSource.Create(stack["KEYWARD_POSTGRES_BENCH"]);
        var tenant = AuditThroughput.LastTenant ?? await LongestChainAsync(data)
            ?? throw new InvalidOperationException("no audit chain to verify: run p3 first");
        Console.WriteLine($"P5: verifying the chain of tenant {tenant}");

        var entries = new List<(long Sequence, byte[] Canonical, byte[] Previous, byte[] Hash)>();
        // The service verifies on a pooled connection: open one before the clock starts.
        await using (var warm = await data.OpenConnectionAsync())
        {
        }

        // Best of three, as for the reference: the first pass also pays for compiling the loop.
        var stopwatch = new Stopwatch();
        var fastest = double.MaxValue;
        for (var pass = 0; pass < 3; pass++)
        {
            entries.Clear();
            stopwatch.Restart();
            await VerifyAsync();
            fastest = Math.Min(fastest, stopwatch.Elapsed.TotalSeconds);
        }

        var verified = entries.Count / fastest;

        // Reference: the hashing alone, same bytes, best of three.
        var best = double.MaxValue;
        var output = new byte[32];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var round = 0; round < 3; round++)
        {
            stopwatch.Restart();
            foreach (var entry in entries)
            {
                sha.AppendData(entry.Previous);
                sha.AppendData(entry.Canonical);
                sha.GetHashAndReset(output);
            }

            best = Math.Min(best, stopwatch.Elapsed.TotalSeconds);
        }

        var reference = entries.Count / best;
        Console.WriteLine($"    verified {entries.Count:N0} entries: {verified:N0} entries/s; SHA-256 alone: {reference:N0} entries/s");
        return new BenchFigure("P5", "audit chain verification (read + recompute + compare)", "entries/s", verified,
            "SHA-256 over the same bytes in memory", reference, $"{entries.Count} entries, best of three passes each");

        async Task VerifyAsync()
        {
            using var verifier = new ChainVerifier(tenant, 1, ChainHash.Genesis, null);
            await using var command = data.CreateCommand("select sequence, canonical, previous_hash, hash from audit.chain_entries where tenant_id = @t order by sequence");
            command.Parameters.AddWithValue("t", tenant);
            await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess);
            while (await reader.ReadAsync())
            {
                var entry = (reader.GetInt64(0), (byte[])reader[1], (byte[])reader[2], (byte[])reader[3]);
                if (!verifier.Entry(entry.Item1, entry.Item2, entry.Item3, entry.Item4))
                {
                    throw new InvalidOperationException($"the chain is broken: {verifier.Break}");
                }

                entries.Add(entry);
            }
        }
    }

    private static async Task<string?> LongestChainAsync(NpgsqlDataSource data)
    {
        await using var command = data.CreateCommand("select tenant_id from audit.chain_heads order by sequence desc limit 1");
        return await command.ExecuteScalarAsync() as string;
    }
}
