using System.Globalization;
using System.Text.RegularExpressions;
using Hypha.Torch;

namespace Hypha.Data;

/// <summary>
/// How much memory the images may take (<c>--memory-budget</c>): a share of physical memory (<c>50%</c>, the
/// default), a size (<c>8G</c>, <c>512M</c>, <c>2.5GiB</c>; K, M, G and T are powers of 1024, a bare number is bytes), or
/// <c>none</c> for no limit. <see cref="DatasetBuilder.Build"/> refuses, before reading any pixel, images whose estimated
/// memory (<see cref="Imaging.ImageMemory"/>) exceeds it.
/// </summary>
public static partial class ImageMemoryBudget
{
    /// <summary>The default: half of physical memory, leaving the other half for the model, the chunk bank on the
    /// device and everything else on the machine.</summary>
    public const string Default = "50%";

    /// <summary>The budget in bytes (null for <c>none</c>) and how it was reached, for messages: "11.6 GiB, 50% of 23.2 GiB of physical memory,".
    /// A spec that does not parse is a configuration error naming <c>--memory-budget</c>.</summary>
    public static (long? Bytes, string Words) Resolve(string spec)
    {
        var s = spec.Trim();
        if (s.Equals("none", StringComparison.OrdinalIgnoreCase)) return (null, "none");
        var m = Pattern().Match(s);
        if (!m.Success || !double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0) || double.IsInfinity(value))
            throw HyphaException.Config($"--memory-budget: '{spec}' is not a share of physical memory (such as 50%), a size (such as 8G, 512M or 2.5GiB) or none");
        var unit = m.Groups[2].Value.ToUpperInvariant();
        if (unit == "%")
        {
            if (value > 100) throw HyphaException.Config($"--memory-budget: '{spec}' is more than 100% of physical memory");
            var host = DeviceMemory.HostBytes();
            var bytes = (long)(host * value / 100);
            return (bytes, $"{DeviceMemory.Format(bytes)}, {value.ToString("0.##", CultureInfo.InvariantCulture)}% of {DeviceMemory.Format(host)} of physical memory,");
        }
        var scale = unit.Length == 0 ? 1 : unit[0] switch { 'B' => 1, 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1L << 40 };
        var size = (long)Math.Min(long.MaxValue, value * scale);
        return (size, DeviceMemory.Format(size));
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(%|B|[KMGT](?:I?B)?)?$", RegexOptions.IgnoreCase)]
    private static partial Regex Pattern();
}
