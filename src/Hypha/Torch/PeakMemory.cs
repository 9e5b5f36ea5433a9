namespace Hypha.Torch;

/// <summary>Peak memory of this process, for training summaries and benchmarks.</summary>
public static class PeakMemory
{
    /// <summary>Peak resident host memory (VmHWM in /proc/self/status) in MiB; NaN where /proc is unavailable.</summary>
    public static double HostMiB()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return double.NaN;
        foreach (var line in File.ReadLines(status))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
