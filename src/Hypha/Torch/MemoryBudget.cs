using System.Globalization;

namespace Hypha.Torch;

/// <summary>How much host memory a new allocation can still have, read before a large job starts.</summary>
public static class MemoryBudget
{
    /// <summary>
    /// Bytes the host can still give this process: MemAvailable of /proc/meminfo, or less where this process's cgroup
    /// (v2 memory.max, v1 memory.limit_in_bytes) leaves less; null where neither can be read (not Linux).
    /// </summary>
    public static long? HostAvailableBytes()
    {
        long? available = null;
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    available = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        if (CgroupHeadroom() is { } room) available = available is { } a ? Math.Min(a, room) : room;
        return available;
    }

    static long? CgroupHeadroom()
    {
        (string Limit, string Usage)[] files =
        [
            ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
        ];
        foreach (var (limitFile, usageFile) in files)
        {
            try
            {
                if (!File.Exists(limitFile) || !File.Exists(usageFile)) continue;
                var text = File.ReadAllText(limitFile).Trim();
                if (text == "max" || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit > 1L << 60) return null;
                var usage = long.Parse(File.ReadAllText(usageFile).Trim(), CultureInfo.InvariantCulture);
                return Math.Max(0, limit - usage);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        }
        return null;
    }

    /// <summary>Bytes as "1.5 GiB" / "320 MiB".</summary>
    public static string Format(long bytes) => bytes >= 1L << 30
        ? (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB"
        : (bytes / (double)(1L << 20)).ToString("0", CultureInfo.InvariantCulture) + " MiB";
}
