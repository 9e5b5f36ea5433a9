namespace Hypha.Bench;

/// <summary>Peak resident memory of this process (VmHWM from /proc/self/status), in MiB.</summary>
public static class PeakRss
{
    public static double MiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:"))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        return double.NaN;
    }
}
