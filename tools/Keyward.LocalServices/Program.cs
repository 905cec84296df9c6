using Keyward.LocalServices;

// keyward-local-services env <service> <purpose> <name>=<http>:<grpc>...  — prints the service's environment, one
// NAME=VALUE a line, for scripts/services.sh (which starts and stops the processes by PID).
if (args is not ["env", var service, var purposeName, .. var portArgs] || !Enum.TryParse<StackPurpose>(purposeName, ignoreCase: true, out var purpose))
{
    Console.Error.WriteLine("usage: keyward-local-services env <service> dev|test|bench <service>=<http-port>:<grpc-port>...");
    return 2;
}

try
{
    var peers = portArgs.Select(a => a.Split('=', ':')).ToDictionary(p => p[0], p => new ServicePorts(int.Parse(p[1]), int.Parse(p[2])));
    LocalService.Named(service);
    foreach (var (name, value) in ServiceEnvironment.For(StackValues.Load(), purpose, service, peers[service], peers))
    {
        Console.WriteLine($"{name}={value}");
    }

    return 0;
}
catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or KeyNotFoundException or IndexOutOfRangeException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
