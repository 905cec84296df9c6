using System.Diagnostics;
using System.Security.Cryptography;
using Keyward.AuditTrail;
using Npgsql;

namespace Keyward.Bench;

/// <summary>
/// P5: log verification entries per second as the audit service does it (read the leaves from PostgreSQL in
/// order, hash each leaf, compare it with the stored leaf hash, fold it into the tree), next to bare SHA-256 over
/// the same bytes already in memory.
/// </summary>
public static class ChainVerification
{
    public static async Task<BenchFigure> RunAsync(StackEnvironment stack)
    {
        await using var data = NpgsqlDataSource.Create(stack["KEYWARD_POSTGRES_BENCH"]);
        var tenant = AuditThroughput.LastTenant ?? await LongestChainAsync(data)
            ?? throw new InvalidOperationException("no audit chain to verify: run p3 first");
        Console.WriteLine($"P5: verifying the chain of tenant {tenant}");

        var entries = new List<(long Index, byte[] Leaf, byte[] Hash)>();
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
                sha.AppendData(entry.Leaf);
                sha.GetHashAndReset(output);
            }

            best = Math.Min(best, stopwatch.Elapsed.TotalSeconds);
        }

        var reference = entries.Count / best;
        Console.WriteLine($"    verified {entries.Count:N0} entries: {verified:N0} entries/s; SHA-256 alone: {reference:N0} entries/s");
        return new BenchFigure("P5", "audit log verification (read + leaf hash + compare + tree)", "entries/s", verified,
            "SHA-256 over the same bytes in memory", reference, $"{entries.Count} entries, best of three passes each");

        async Task VerifyAsync()
        {
            var tree = new Keyward.Transparency.CompactRange();
            await using var command = data.CreateCommand("""
                select e.idx, e.leaf, n.hash from audit.log_entries e
                join audit.log_nodes n on n.tenant_id = e.tenant_id and n.log = e.log and n.level = 0 and n.idx = e.idx
                where e.tenant_id = @t and e.log = 'audit' order by e.idx
                """);
            command.Parameters.AddWithValue("t", tenant);
            await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess);
            while (await reader.ReadAsync())
            {
                var entry = (reader.GetInt64(0), (byte[])reader[1], (byte[])reader[2]);
                var leafHash = Keyward.Transparency.MerkleHash.Leaf(entry.Item2);
                if (entry.Item1 != tree.Size || !leafHash.AsSpan().SequenceEqual(entry.Item3))
                {
                    throw new InvalidOperationException($"the log is broken at leaf {tree.Size}");
                }

                tree.Append(leafHash);
                entries.Add(entry);
            }
        }
    }

    private static async Task<string?> LongestChainAsync(NpgsqlDataSource data)
    {
        await using var command = data.CreateCommand("select tenant_id from audit.log_states where log = 'audit' order by size desc limit 1");
        return await command.ExecuteScalarAsync() as string;
    }
}
