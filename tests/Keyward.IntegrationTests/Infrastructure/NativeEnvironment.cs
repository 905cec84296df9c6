using System.Runtime.InteropServices;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>
/// Sets a variable in the process's native environment. .NET keeps its own copy on Unix, but native
/// libraries such as SoftHSM read the C environment (SOFTHSM2_CONF).
/// </summary>
internal static partial class NativeEnvironment
{
    public static void Set(string name, string value)
    {
        Environment.SetEnvironmentVariable(name, value);
        if (setenv(name, value, 1) != 0)
        {
            throw new InvalidOperationException($"setenv({name}) failed");
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
