using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Hypha.Torch;

/// <summary>
/// Everything about loading libtorch in one place. The bundled build (TorchSharp-cpu) needs nothing; the
/// <c>external</c> build (<c>-p:HyphaLibTorch=external</c>) runs on an installed libtorch, e.g. PyTorch's, found
/// on <c>LD_LIBRARY_PATH</c> or in the folder named by <see cref="LibTorchVariable"/>.
/// </summary>
public static class TorchBackend
{
    /// <summary>Environment variable naming a folder with libtorch*.so (e.g. <c>.../site-packages/torch/lib</c>).</summary>
    public const string LibTorchVariable = "HYPHA_LIBTORCH";

    static readonly object Gate = new();
    static bool _loaded;
    static readonly List<string> Preloaded = [];

    /// <summary>The libtorch flavour this build was made for: <c>cpu</c> (bundled) or <c>external</c>.</summary>
    public static string BuildFlavour =>
        typeof(TorchBackend).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "HyphaLibTorch")?.Value ?? "cpu";

    /// <summary>Loads libtorch once (preloading from <see cref="LibTorchVariable"/> when set) and returns its version.</summary>
    public static string EnsureLoaded()
    {
        lock (Gate)
        {
            if (!_loaded)
            {
                HostAllocator.Tune(); // before libtorch allocates anything
                PreloadExternal();
                try
                {
                    _ = torch.__version__;
                }
                catch (Exception e)
                {
                    throw new HyphaException(ExitCode.DeviceUnavailable,
                        "libtorch could not be loaded: " + Innermost(e).Message + ". " + LoadHint(), inner: e);
                }
                _loaded = true;
                // As the PyTorch reference and most training scripts do (torch.backends.cudnn.benchmark = True).
                CudnnAutotuner.TrySet(true);
            }
            return torch.__version__;
        }
    }

    /// <summary>Why CUDA is or is not usable, in words a user can act on.</summary>
    public static string CudaStatus()
    {
        EnsureLoaded();
        if (torch.cuda.is_available()) return $"available: {torch.cuda.device_count()} device(s)";
        if (BuildFlavour == "cpu")
            return "not available: this build bundles the CPU-only libtorch (TorchSharp-cpu). Publish with " +
                   "-p:HyphaLibTorch=external and put a CUDA libtorch (e.g. PyTorch's torch/lib) on LD_LIBRARY_PATH " +
                   $"or in {LibTorchVariable} (docs/gpu.md)";
        if (!NativeLibrary.TryLoad("libtorch_cuda.so", out _))
            return "not available: libtorch_cuda.so was not found on LD_LIBRARY_PATH or in " + LibTorchVariable;
        if (!NativeLibrary.TryLoad("libcuda.so.1", out _))
            return "not available: no NVIDIA driver (libcuda.so.1 not found)";
        return "not available: libtorch reports no CUDA device";
    }

    /// <summary>Facts for <c>hypha doctor</c>, as name/value pairs.</summary>
    public static IReadOnlyList<(string Name, string Value)> Describe()
    {
        var version = EnsureLoaded();
        var facts = new List<(string, string)>
        {
            ("libtorch", version),
            ("TorchSharp", typeof(torch).Assembly.GetName().Version?.ToString() ?? "?"),
            ("build flavour", BuildFlavour == "cpu" ? "cpu (bundled libtorch)" : "external libtorch"),
            ("libtorch preloaded from", Preloaded.Count == 0 ? "-" : string.Join(", ", Preloaded)),
            ("threads", torch.get_num_threads().ToString()),
            ("cuda", CudaStatus()),
            ("host allocator", HostAllocator.State),
            ("cudnn autotuner", CudnnAutotuner.Enabled() switch { true => "on", false => "off", null => "not settable in this libtorch" }),
        };
        if (torch.cuda.is_available())
            for (var i = 0; i < torch.cuda.device_count(); i++) facts.Add(($"cuda:{i}", "present"));
        return facts;
    }

    static void PreloadExternal()
    {
        var dir = Environment.GetEnvironmentVariable(LibTorchVariable);
        if (string.IsNullOrEmpty(dir)) return;
        if (!Directory.Exists(dir))
            throw new HyphaException(ExitCode.DeviceUnavailable, $"{LibTorchVariable} names no folder", dir);
        // Dependency order: the loader then matches libLibTorchSharp's DT_NEEDED entries by soname.
        foreach (var name in new[] { "libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so" })
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path) && NativeLibrary.TryLoad(path, out _)) Preloaded.Add(path);
        }
    }

    static string LoadHint() => BuildFlavour == "cpu"
        ? "Rebuild Hypha (the build marks a GLIBCXX_3.4.32 requirement weak so Debian 12 can load it)."
        : $"Put the lib folder of an installed libtorch on LD_LIBRARY_PATH or in {LibTorchVariable}.";

    static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
