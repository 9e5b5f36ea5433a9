using System.Globalization;
using System.Runtime.InteropServices;

namespace Hypha.Torch;

/// <summary>
/// How much memory a device has, for refusing work that cannot fit before anything is allocated: the host's physical
/// memory (or the container's or GC's limit, whichever is lower: <see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>)
/// and a CUDA device's total memory (the driver API's <c>cuDeviceTotalMem</c>, which needs no context, so no memory is
/// taken on the GPU to ask; TorchSharp 0.107 has no call for it).
/// </summary>
public static class DeviceMemory
{
    /// <summary>Physical memory this process may use, in bytes.</summary>
    public static long HostBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Memory the host has free now (MemAvailable in /proc/meminfo), in bytes; null where unknown.</summary>
    public static long? HostAvailableBytes()
    {
        const string meminfo = "/proc/meminfo";
        if (!File.Exists(meminfo)) return null;
        foreach (var line in File.ReadLines(meminfo))
            if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return null;
    }

    /// <summary>Total memory of CUDA device <paramref name="index"/> (as numbered under CUDA_VISIBLE_DEVICES), in bytes;
    /// null when the driver cannot say.</summary>
    public static long? CudaBytes(int index)
    {
        try
        {
            if (cuInit(0) != 0 || cuDeviceGet(out var device, index) != 0) return null;
            return cuDeviceTotalMem_v2(out var bytes, device) == 0 ? (long)bytes : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return null;
        }
    }

    /// <summary>What <paramref name="device"/> has, in words and bytes: "23.2 GiB of physical memory", "80 GiB on cuda:0".</summary>
    public static (string Words, long? Bytes) Of(TorchSharp.torch.Device device)
    {
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            var bytes = CudaBytes(Math.Max(0, (int)device.index));
            return (bytes is { } b ? $"{Format(b)} on cuda:{Math.Max(0, (int)device.index)}" : $"an unknown amount on cuda:{Math.Max(0, (int)device.index)}", bytes);
        }
        var host = HostBytes();
        return ($"{Format(host)} of physical memory", host);
    }

    /// <summary>Bytes in binary units with three significant digits: "512 B", "1.5 KiB", "23.2 GiB", "8 TiB".</summary>
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double v = bytes;
        var u = 0;
        while (Math.Abs(v) >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        var text = u == 0 ? v.ToString("0", CultureInfo.InvariantCulture)
            : v.ToString(Math.Abs(v) >= 100 ? "0" : Math.Abs(v) >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);
        return $"{text} {units[u]}";
    }

    [DllImport("libcuda.so.1")] static extern int cuInit(uint flags);
    [DllImport("libcuda.so.1")] static extern int cuDeviceGet(out int device, int ordinal);
    [DllImport("libcuda.so.1")] static extern int cuDeviceTotalMem_v2(out nuint bytes, int device);
}
