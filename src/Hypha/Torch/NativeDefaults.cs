using System.Runtime.CompilerServices;

namespace Hypha.Torch;

/// <summary>Native-library settings that must be in the C environment before libtorch's OpenMP runtime starts.</summary>
internal static class NativeDefaults
{
    /// <summary>
    /// OpenMP threads that wait at a barrier spin by default. When anything else wants the cores (a second job, a
    /// build, a browser on a laptop) the spinning thread steals the core the working one needs: on 2 busy cores a
    /// small model trained at 15 images/s instead of 116 (measured, see docs/decisions.md). Passive waiting costs
    /// little when the machine is idle. A user's own OMP_WAIT_POLICY wins.
    /// </summary>
    // CA2255: a library module initializer is exactly what is needed here: it must run before any torch call.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Apply() => NativeEnvironment.SetDefault("OMP_WAIT_POLICY", "PASSIVE");
}
