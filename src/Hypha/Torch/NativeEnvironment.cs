using System.Runtime.InteropServices;

namespace Hypha.Torch;

/// <summary>
/// Sets variables in the native process environment. <see cref="Environment.SetEnvironmentVariable(string, string)"/>
/// only changes .NET's copy on Unix, but OpenCV and libtorch read the C environment with getenv.
/// </summary>
internal static partial class NativeEnvironment
{
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    /// <summary>Sets <paramref name="name"/> unless the user already set it.</summary>
    public static void SetDefault(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is not null) return;
        Environment.SetEnvironmentVariable(name, value);
        if (!OperatingSystem.IsWindows()) SetEnv(name, value, 0);
    }
}
