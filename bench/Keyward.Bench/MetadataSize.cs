using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Npgsql;

namespace Keyward.Bench;

/// <summary>
/// P7 (issue #15): one client, a folder of 100, 1,000 and 10,000 files — lock → PUT → unlock and GET through the
/// gateway, with the server validating the document and verifying its signature — ms per cycle, next to one durable
/// INSERT of the same metadata text into PostgreSQL (the least a store of that document costs). The encrypted part
/// is sized as a real client's: ≈ 350 bytes of gzip+AES-GCM per file entry, base64 (10,000 files ≈ 4.7 MB).
/// </summary>
public static class MetadataSize
{
    private const string Api = OcsFolderCalls.Api;
    private const int BytesPerFile = 350;
    private const int Cycles = 12;

    public static async Task<IReadOnlyList<BenchFigure>> RunAsync(StackEnvironment stack, BenchSystem system)
    {
        var figures = new List<BenchFigure>();
        var user = $"p7-{Guid.NewGuid():N}"[..16];
        using var http = system.Http(user);
        http.Timeout = TimeSpan.FromMinutes(2);
        using var key = RSA.Create(2048);
        var certificate = await OcsFolderCalls.EnrollAsync(http, user, key);

        // Warm the path (large bodies, signature checks, blobs) until the services' JIT has settled, as the other figures do.
        var (warmId, warmMetadata, warmSignature) = await FolderAsync(http, user, certificate, key, 1_000);
        var warmCounter = 0L;
        await OcsFolderCalls.CycleAsync(http, warmId, ++warmCounter, warmMetadata, warmSignature, create: true);
        await Warmup.RunAsync(system, "metadata size", 1, async _ =>
        {
            await OcsFolderCalls.CycleAsync(http, warmId, ++warmCounter, warmMetadata, warmSignature, create: false);
            using var read = await http.GetAsync($"{Api}meta-data/{warmId}");
            await read.Content.ReadAsByteArrayAsync();
        }, system.MaxWarmup);

        foreach (var files in new[] { 100, 1_000, 10_000 })
        {
            figures.Add(await MeasureAsync(stack, http, user, certificate, key, files));
        }

        return figures;
    }

    /// <summary>A registered folder and a signed document of <paramref name="files"/> files for it.</summary>
    private static async Task<(string Id, string Metadata, string Signature)> FolderAsync(HttpClient http, string user, string certificate, RSA key, int files)
    {
        var (metadata, signature) = OcsFolderCalls.SignedRoot(user, certificate, key, Convert.ToBase64String(RandomNumberGenerator.GetBytes(files * BytesPerFile)),
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)), Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)), Convert.ToBase64String(RandomNumberGenerator.GetBytes(256)));
        return (await OcsFolderCalls.RegisterAsync(http), metadata, signature);
    }

    private static async Task<BenchFigure> MeasureAsync(StackEnvironment stack, HttpClient http, string user, string certificate, RSA key, int files)
    {
        var (id, metadata, signature) = await FolderAsync(http, user, certificate, key, files);

        var cycles = new List<double>();
        var reads = new List<double>();
        var steps = new List<double[]>();
        for (var counter = 1; counter <= Cycles + 2; counter++)
        {
            var started = Stopwatch.GetTimestamp();
            var step = await OcsFolderCalls.CycleAsync(http, id, counter, metadata, signature, create: counter == 1);
            var cycle = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            started = Stopwatch.GetTimestamp();
            using (var read = await http.GetAsync($"{Api}meta-data/{id}"))
            {
                read.EnsureSuccessStatusCode();
                await read.Content.ReadAsByteArrayAsync();
            }

            // The first two cycles warm the path for this size; they are not counted.
            if (counter > 2)
            {
                cycles.Add(cycle);
                steps.Add(step);
                reads.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        var insert = await DurableInsertAsync(stack, metadata);
        var split = string.Join(" / ", Enumerable.Range(0, 3).Select(i => Percentiles.Of(steps.Select(s => s[i]).ToList(), 50).ToString("N1")));
        var total = Percentiles.Of(cycles.Zip(reads, (c, r) => c + r).ToList(), 50);
        Console.WriteLine($"P7: {files,6:N0} files ({metadata.Length / 1024.0 / 1024.0:N2} MB): lock→PUT→unlock p50 {Percentiles.Of(cycles, 50):N1} ms ({split}), GET p50 {Percentiles.Of(reads, 50):N1} ms; durable INSERT of the text {insert:N1} ms");
        return new BenchFigure($"P7-{files}", $"a folder of {files:N0} files: lock → PUT → unlock + GET through the gateway, signature verified (p50)", "ms", total,
            "one durable INSERT of the same metadata text (p50)", insert,
            $"{metadata.Length / 1024.0 / 1024.0:N2} MB of metadata, after a warm-up until the JIT settled; cycle p50 {Percentiles.Of(cycles, 50):N1} ms (lock / PUT / unlock {split}), GET p50 {Percentiles.Of(reads, 50):N1} ms; {Cycles} cycles after 2 warm-up; goal ≤ 150 ms at 10,000 files and linear in size");
    }

    private static async Task<double> DurableInsertAsync(StackEnvironment stack, string text)
    {
        await using var data = NpgsqlDataSource.Create(stack["KEYWARD_POSTGRES_BENCH"]);
        await using (var create = data.CreateCommand("create table if not exists public.bench_blob (id bigserial primary key, payload text not null)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var samples = new List<double>();
        for (var i = 0; i < Cycles; i++)
        {
            await using var insert = data.CreateCommand("insert into public.bench_blob (payload) values (@p)");
            insert.Parameters.AddWithValue("p", text);
            var started = Stopwatch.GetTimestamp();
            await insert.ExecuteNonQueryAsync();
            samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return Percentiles.Of(samples, 50);
    }
}
