using System.Text.RegularExpressions;

namespace Hypha.Torch;

/// <summary>
/// Recognises a failed allocation (libtorch's CPU allocator, CUDA's caching allocator, or .NET) anywhere in an
/// exception's chain and turns it into one line with exit 8, instead of "unexpected error" and a 50-line trace.
/// </summary>
public static partial class AllocationFailure
{
    /// <summary>The allocation failure in <paramref name="e"/>'s chain as a <see cref="HyphaException"/>, or null when it is none.</summary>
    public static HyphaException? From(Exception? e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is HyphaException { Code: ExitCode.OutOfMemory } h) return h;
            if (x is OutOfMemoryException)
                return new HyphaException(ExitCode.OutOfMemory, $"out of memory: {FirstLine(x.Message)}; {Hint}", inner: x);
            var m = x.Message;
            if (CpuAllocator().Match(m) is { Success: true } cpu)
                return new HyphaException(ExitCode.OutOfMemory,
                    $"out of memory: libtorch could not allocate {DeviceMemory.Format(long.Parse(cpu.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))} on the CPU; {Hint}", inner: x);
            if (m.Contains("CUDA out of memory", StringComparison.Ordinal) || m.Contains("CUDA error: out of memory", StringComparison.Ordinal))
                return new HyphaException(ExitCode.OutOfMemory, $"out of memory on the GPU: {FirstLine(m[m.IndexOf("CUDA", StringComparison.Ordinal)..])}; {Hint}", inner: x);
        }
        return null;
    }

    const string Hint = "lower --batch or the model's size, or use a device with more memory (nothing was left half-written)";

    static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.TrimEnd('.');
    }

    [GeneratedRegex(@"can't allocate memory: you tried to allocate (\d+) bytes")]
    private static partial Regex CpuAllocator();
}
