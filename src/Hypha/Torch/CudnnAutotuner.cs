using System.Runtime.InteropServices;

namespace Hypha.Torch;

/// <summary>
/// cuDNN's autotuner, <c>torch.backends.cudnn.benchmark</c> in PyTorch: with it on, the first convolution of each shape
/// times cuDNN's algorithms and keeps the fastest, instead of taking its heuristic's pick. Training runs the same shapes
/// for hours, so the few seconds of tuning pay back; the PyTorch reference (bench/pytorch) turns it on, as PyTorch
/// users of this field do. TorchSharp exposes no setter, so this calls libtorch's own
/// <c>at::globalContext().setBenchmarkCuDNN(bool)</c> through its exported C++ symbols. The flag only affects cuDNN: on
/// the CPU it is set and read back but changes nothing.
/// </summary>
public static unsafe class CudnnAutotuner
{
    // Itanium C++ ABI names, exported by libtorch_cpu.so in libtorch 2.x: at::globalContext(),
    // at::Context::setBenchmarkCuDNN(bool) and at::Context::benchmarkCuDNN() const (a member takes `this` first).
    const string Library = "libtorch_cpu.so";
    const string GlobalContext = "_ZN2at13globalContextEv";
    const string SetBenchmark = "_ZN2at7Context17setBenchmarkCuDNNEb";
    const string GetBenchmark = "_ZNK2at7Context14benchmarkCuDNNEv";

    /// <summary>Turns the autotuner on or off; false when this libtorch does not export the functions (then nothing
    /// changed). Call after <see cref="TorchBackend.EnsureLoaded"/>.</summary>
    public static bool TrySet(bool enabled)
    {
        if (Context() is not { } context || !NativeLibrary.TryGetExport(context.Library, SetBenchmark, out var set)) return false;
        ((delegate* unmanaged<IntPtr, byte, void>)set)(context.Self, enabled ? (byte)1 : (byte)0);
        return true;
    }

    /// <summary>Whether the autotuner is on; null when this libtorch does not export the function.</summary>
    public static bool? Enabled()
    {
        if (Context() is not { } context || !NativeLibrary.TryGetExport(context.Library, GetBenchmark, out var get)) return null;
        return ((delegate* unmanaged<IntPtr, byte>)get)(context.Self) != 0;
    }

    /// <summary>The already loaded libtorch_cpu (dlopen by name finds the copy TorchSharp loaded, by its soname) and its
    /// global context.</summary>
    static (IntPtr Library, IntPtr Self)? Context()
    {
        if (!NativeLibrary.TryLoad(Library, out var library) || !NativeLibrary.TryGetExport(library, GlobalContext, out var global))
            return null;
        return (library, ((delegate* unmanaged<IntPtr>)global)());
    }
}
