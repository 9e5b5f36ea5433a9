namespace Hypha.Torch;

/// <summary>Memory figures of this process (peak resident memory, page faults), for training summaries and benchmarks.</summary>
public static class PeakMemory
{
    /// <summary>Peak resident host memory (VmHWM in /proc/self/status) in MiB; NaN where /proc is unavailable.</summary>
    public static double HostMiB() => StatusMiB("VmHWM:");

    /// <summary>Resident host memory now (VmRSS in /proc/self/status) in MiB; NaN where /proc is unavailable.</summary>
    public static double CurrentHostMiB() => StatusMiB("VmRSS:");

    static double StatusMiB(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return double.NaN;
        foreach (var line in File.ReadLines(status))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }

    /// <summary>
    /// Minor page faults of this process so far (field 10 of /proc/self/stat); -1 where /proc is unavailable. Their
    /// growth over a training step counts the pages the allocator returned to the kernel and then touched again.
    /// </summary>
    public static long MinorFaults() => MinorFaultsIn("/proc/self/stat");

    /// <summary>Minor page faults taken by the calling thread so far (/proc/thread-self/stat); -1 where unavailable.</summary>
    public static long ThreadMinorFaults() => MinorFaultsIn("/proc/thread-self/stat");

    static long MinorFaultsIn(string stat)
    {
        if (!File.Exists(stat)) return -1;
        var text = File.ReadAllText(stat);
        // The command name in field 2 may hold spaces; the fields after it start past its closing parenthesis.
        var rest = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(rest[7], System.Globalization.CultureInfo.InvariantCulture);
    }
}
