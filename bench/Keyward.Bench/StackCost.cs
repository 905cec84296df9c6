using Npgsql;

namespace Keyward.Bench;

/// <summary>
/// What a measured phase cost the whole stack, per operation: CPU time of every process of the stack (user + system,
/// from <c>/proc/&lt;pid&gt;/stat</c>), context switches of all their threads (<c>/proc/&lt;pid&gt;/task/*/status</c>),
/// and PostgreSQL's statements (<c>pg_stat_statements</c>, when scripts/bench loaded it) and commits
/// (<c>pg_stat_database</c>). Throughput moves ±30 % between runs here; the cost per operation moves far less, so a
/// change is judged by it.
/// </summary>
public sealed class StackCost
{
    private static readonly double TicksPerMs = 100 / 1000.0; // USER_HZ: 100 on Linux
    private readonly BenchSystem _system;
    private readonly string _database;
    private readonly Snapshot _start;

    private StackCost(BenchSystem system, string database, Snapshot start)
    {
        _system = system;
        _database = database;
        _start = start;
    }

    /// <summary>Starts counting once the work of earlier phases is done (their audit backlog would be charged to this one).</summary>
    public static async Task<StackCost> StartAsync(BenchSystem system)
    {
        await system.WaitForOutboxesAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var database = system.Database;
        await using (var data = NpgsqlDataSource.Create(database))
        await using (var create = data.CreateCommand("create extension if not exists pg_stat_statements"))
        {
            await create.ExecuteNonQueryAsync(); // its view answers only where scripts/bench preloaded the library
        }

        return new StackCost(system, database, await Snapshot.TakeAsync(system, database));
    }

    /// <summary>The cost since the start, divided by <paramref name="operations"/>, once the audit events of the phase are chained.</summary>
    public async Task<CostPerOperation> StopAsync(long operations)
    {
        await _system.WaitForOutboxesAsync();
        await Task.Delay(TimeSpan.FromSeconds(1)); // the audit service chains the last batch; PostgreSQL's counters catch up
        var end = await Snapshot.TakeAsync(_system, _database);
        var cpu = new Dictionary<string, double>();
        long switches = 0;
        foreach (var (key, now) in end.Processes)
        {
            // A process that started during the phase counts from zero; one that ended is in its parent's children's time.
            var before = _start.Processes.GetValueOrDefault(key);
            cpu[now.Part] = cpu.GetValueOrDefault(now.Part) + (now.Ticks - before.Ticks) / TicksPerMs / operations;
        }

        foreach (var (thread, count) in end.Switches)
        {
            switches += count - _start.Switches.GetValueOrDefault(thread);
        }

        return new CostPerOperation(cpu.Values.Sum(), cpu, (double)switches / operations,
            end.Statements < 0 ? double.NaN : (double)(end.Statements - _start.Statements) / operations, (double)(end.Commits - _start.Commits) / operations);
    }

    /// <summary>A process by pid and start time (a pid can be reused), with its part and CPU ticks (its own and its ended children's).</summary>
    private readonly record struct ProcessTicks(string Part, long Ticks);

    private sealed record Snapshot(Dictionary<(int Pid, long Started), ProcessTicks> Processes, Dictionary<(int Pid, int Tid), long> Switches, long Statements, long Commits)
    {
        public static async Task<Snapshot> TakeAsync(BenchSystem system, string database)
        {
            var processes = new Dictionary<(int, long), ProcessTicks>();
            var switches = new Dictionary<(int, int), long>();
            foreach (var (part, pid) in StackProcesses(system))
            {
                if (ReadTicks(pid) is { } ticks)
                {
                    processes[(pid, ticks.Started)] = new ProcessTicks(part, ticks.Total);
                    ReadSwitches(pid, switches);
                }
            }

            await using var data = NpgsqlDataSource.Create(database);
            await using var commits = data.CreateCommand("select xact_commit from pg_stat_database where datname = current_database()");
            var committed = (long)(await commits.ExecuteScalarAsync())!;
            long statements = -1;
            try
            {
                await using var calls = data.CreateCommand("select coalesce(sum(calls), 0)::bigint from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())");
                statements = (long)(await calls.ExecuteScalarAsync())!;
            }
            catch (PostgresException)
            {
                // pg_stat_statements not loaded (a stack not started by scripts/bench): statements are not counted.
            }

            return new Snapshot(processes, switches, statements, committed);
        }

        /// <summary>Every process of the stack by part: each service, PostgreSQL's, RabbitMQ's (the Erlang VM), and this client.</summary>
        private static IEnumerable<(string Part, int Pid)> StackProcesses(BenchSystem system)
        {
            foreach (var (name, service) in system.Services)
            {
                yield return (name, service.Pid);
            }

            yield return ("client", Environment.ProcessId);
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), out var pid))
                {
                    continue;
                }

                string comm;
                try
                {
                    comm = File.ReadAllText(Path.Combine(directory, "comm")).Trim();
                }
                catch (IOException)
                {
                    continue; // gone meanwhile
                }

                if (comm == "postgres")
                {
                    yield return ("postgresql", pid);
                }
                else if (comm is "beam.smp" or "erl_child_setup" or "epmd" or "inet_gethost")
                {
                    yield return ("rabbitmq", pid);
                }
            }
        }

        /// <summary>utime + stime + cutime + cstime (fields 14–17: PostgreSQL's backends that ended are in the postmaster's), and the start time (22).</summary>
        private static (long Total, long Started)? ReadTicks(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                // After the command name in parentheses (which may hold spaces), the state is field 3.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return (long.Parse(fields[11]) + long.Parse(fields[12]) + long.Parse(fields[13]) + long.Parse(fields[14]), long.Parse(fields[19]));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                return null; // the process ended while being read
            }
        }

        /// <summary>
        /// Context switches per thread (the kernel keeps them per thread): a thread that ends during the phase takes its
        /// count with it, so the figure is a lower bound.
        /// </summary>
        private static void ReadSwitches(int pid, Dictionary<(int, int), long> switches)
        {
            IEnumerable<string> tasks;
            try
            {
                tasks = Directory.EnumerateDirectories($"/proc/{pid}/task").ToList();
            }
            catch (IOException)
            {
                return;
            }

            foreach (var task in tasks)
            {
                try
                {
                    long count = 0;
                    foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    {
                        if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        {
                            count += long.Parse(line[(line.IndexOf(':') + 1)..].Trim());
                        }
                    }

                    switches[(pid, int.Parse(Path.GetFileName(task)))] = count;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
                {
                    // the thread ended while being read
                }
            }
        }
    }
}

/// <summary>The cost of one operation over the whole stack.</summary>
public sealed record CostPerOperation(double CpuMs, IReadOnlyDictionary<string, double> CpuMsByPart, double ContextSwitches, double Statements, double Commits)
{
    public override string ToString()
    {
        var parts = string.Join(", ", CpuMsByPart.Where(p => p.Value >= 0.05).OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value:N1}"));
        var statements = double.IsNaN(Statements) ? "statements not counted" : $"{Statements:N1} SQL statements";
        return $"CPU {CpuMs:N1} ms/op ({parts}), {ContextSwitches:N0} context switches/op, {statements} and {Commits:N1} commits/op";
    }
}
