using System.Diagnostics;
using System.Text;
using Keyward.LocalServices;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>One service started from its build output as a real process, its output kept in a log file.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private int _disposed;

    private ServiceProcess(string name, Process process, StreamWriter log, string logPath, int httpPort, int grpcPort)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
    }

    public string Name { get; }

    public string LogPath { get; }

    public int HttpPort { get; }

    public int GrpcPort { get; }

    public Uri HttpAddress => new($"http://127.0.0.1:{HttpPort}");

    public Uri GrpcAddress => new($"http://127.0.0.1:{GrpcPort}");

    public bool HasExited => _process.HasExited;

    public int Pid => _process.Id;

    /// <summary>Starts the service from its build output with <paramref name="environment"/> (which includes its ports).</summary>
    public static ServiceProcess Start(string repositoryRoot, LocalService service, ServicePorts ports,
        IEnumerable<KeyValuePair<string, string>> environment, string logDirectory)
    {
        var configuration = BuildConfiguration;
        return Start(service.Name, service.BuildDirectory(repositoryRoot, configuration), service.Dll(repositoryRoot, configuration), ports, environment, logDirectory);
    }

    /// <summary>The configuration the tests were built in (bin/&lt;Configuration&gt;/net10.0), which every program they start shares.</summary>
    public static string BuildConfiguration => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    /// <summary>Starts any program of this repository from its build output.</summary>
    public static ServiceProcess Start(string name, string directory, string dll, ServicePorts ports,
        IEnumerable<KeyValuePair<string, string>> environment, string logDirectory)
    {
        var configuration = BuildConfiguration;
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is not built: run `dotnet build Services.sln -c {configuration}`.");
        }

        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }


        Directory.CreateDirectory(logDirectory);
        var logPath = Path.Combine(logDirectory, name + ".log");
        var log = new StreamWriter(logPath, append: false, Encoding.UTF8) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(name, process, log, logPath, ports.Http, ports.Grpc);
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    /// <summary>The log so far (the file is shared with the writer, so read it without locking it).</summary>
    public string ReadLog()
    {
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public string LogTail(int lines = 30) => string.Join('\n', ReadLog().Split('\n').TakeLast(lines));

    /// <summary>Kills the process (SIGKILL); a second call does nothing, so a test may kill a service it also disposes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
