using System.Runtime.InteropServices;

namespace Hypha.Torch;

/// <summary>
/// Makes glibc's malloc keep freed tensor memory for reuse instead of handing it back to the kernel. libtorch's CPU
/// tensors come from malloc, and a training step frees and reallocates the same activations and gradients each time.
/// By default glibc unmaps blocks above its dynamic mmap threshold and trims free memory at the top of the heap, so
/// every step faulted those pages in again, each zeroed by the kernel: 10,000-15,000 faults a step at chunk 64,
/// about 1.6 µs each (docs/decisions.md). A fixed 32 MiB mmap threshold (the largest glibc accepts) and a 2 GiB trim
/// threshold keep blocks under 32 MiB in the heap; peak memory stays the same. Process-wide, as every malloc setting
/// is. Nothing is changed where the user set glibc's own variables or <see cref="OptOutVariable"/>=default, nor on
/// systems without glibc.
/// </summary>
public static partial class HostAllocator
{
    /// <summary>Environment variable; <c>default</c> leaves glibc's malloc settings alone (other values are ignored).</summary>
    public const string OptOutVariable = "HYPHA_MALLOC";

    /// <summary>Blocks at least this large are mapped and unmapped one by one (glibc's largest allowed value).</summary>
    public const int MmapThreshold = 32 << 20;

    /// <summary>Free memory at the top of the heap beyond this is returned to the kernel.</summary>
    public const int TrimThreshold = int.MaxValue;

    // glibc's <malloc.h>.
    const int M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3;

    static readonly string[] GlibcVariables = ["GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"];
    static readonly object Gate = new();

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);

    static string? _state;

    /// <summary>What <see cref="Tune"/> did, in words for <c>hypha doctor</c> and benchmark lines.</summary>
    public static string State => _state ?? "not tuned";

    /// <summary>Applies the settings once; later calls change nothing. Returns <see cref="State"/>.</summary>
    public static string Tune()
    {
        lock (Gate) return _state ??= Decide();
    }

    static string Decide()
    {
        if (Refusal(Environment.GetEnvironmentVariable) is { } reason) return reason;
        try
        {
            // mallopt returns 1 on success; the mmap threshold goes first, since setting it also fixes glibc's
            // otherwise dynamic trim threshold.
            if (MallOpt(M_MMAP_THRESHOLD, MmapThreshold) != 1 || MallOpt(M_TRIM_THRESHOLD, TrimThreshold) != 1)
                return "glibc default (mallopt refused)";
        }
        catch (EntryPointNotFoundException)
        {
            return "system default (no glibc mallopt)";
        }
        catch (DllNotFoundException)
        {
            return "system default (no libc)";
        }
        return "keeps freed memory (glibc mmap threshold 32 MiB, trim threshold 2 GiB)";
    }

    /// <summary>Why the settings are left alone, given the process environment; null where they apply.</summary>
    internal static string? Refusal(Func<string, string?> variable)
    {
        if (!OperatingSystem.IsLinux()) return "system default (not Linux)";
        if (variable(OptOutVariable) == "default") return $"glibc default ({OptOutVariable}=default)";
        return GlibcVariables.FirstOrDefault(v => variable(v) is not null) is { } set ? $"as set by {set}" : null;
    }
}
