namespace Hypha.Imaging;

/// <summary>How each image is brought to [0, 1] before chunking.</summary>
public enum NormalizeMode
{
    /// <summary>The thesis's "positive standardization": z-score per image, clip to [-1, 1], rescale to [0, 1].</summary>
    Standardize,
    /// <summary>Per-image percentiles (default 1st to 99.8th) mapped to [0, 1] and clipped: keeps dark structure.</summary>
    Percentile,
}

/// <summary>An image plane in [0, 1], channel-first, ready to be cut into chunks.</summary>
/// <param name="Label">File (and page) it came from, for reports.</param>
/// <param name="Source">The file path.</param>
/// <param name="Page">Page index inside the file.</param>
public sealed record NormalizedImage(string Label, string Source, int Page, int Width, int Height, int Channels, float[] Data);

/// <summary>Per-image normalization (thesis section 3.2 and its future work).</summary>
public static class Normalization
{
    /// <summary>Normalizes one image. A constant image (no contrast) is an error: nothing can be learned from it.</summary>
    public static NormalizedImage Apply(RawImage image, NormalizeMode mode, double lowPercentile = 1.0, double highPercentile = 99.8)
    {
        if (mode == NormalizeMode.Standardize) NoContrast.Check(image, lowPercentile, highPercentile); // the same "no contrast" as percentile
        var data = mode switch
        {
            NormalizeMode.Standardize => Standardize(image),
            NormalizeMode.Percentile => Percentile(image, lowPercentile, highPercentile),
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
        return new NormalizedImage(image.Label, image.Source, image.Page, image.Width, image.Height, image.Channels, data);
    }

    /// <summary>(clip((x - mean) / std, -1, 1) + 1) / 2 with mean and std over all pixels and channels of the image.</summary>
    public static float[] Standardize(RawImage image)
    {
        var px = image.Pixels;
        double sum = 0, sq = 0;
        foreach (var v in px) sum += v;
        double mean = sum / px.Length;
        // Two passes: E[x^2] - mean^2 cancels badly, and a constant image of -1/7 came out with a "standard deviation" of 1e-9.
        foreach (var v in px) sq += (v - mean) * (v - mean);
        double std = Math.Sqrt(sq / px.Length);
        if (!(std > 1e-12 * Math.Max(1, Math.Abs(mean))))
            throw HyphaException.Input(image.Source, $"{image.Label} is constant (every pixel {mean:G6}): standard deviation 0, nothing to learn");
        var result = new float[px.Length];
        for (var i = 0; i < px.Length; i++)
        {
            var z = (px[i] - mean) / std;
            result[i] = (float)((Math.Clamp(z, -1, 1) + 1) / 2);
        }
        return result;
    }

    /// <summary>(x - p_low) / (p_high - p_low) clipped to [0, 1], percentiles over all pixels and channels of the image.</summary>
    public static float[] Percentile(RawImage image, double low, double high)
    {
        if (!(low >= 0 && low < high && high <= 100))
            throw HyphaException.Config($"percentiles must satisfy 0 <= low < high <= 100 (got {low} and {high})");
        var sorted = (float[])image.Pixels.Clone();
        Array.Sort(sorted);
        double lo = Quantile(sorted, low / 100), hi = Quantile(sorted, high / 100);
        if (!(hi - lo > 1e-12 * Math.Max(1, Math.Abs(lo))))
            throw HyphaException.Input(image.Source,
                $"{image.Label} has no contrast: its {low} and {high} percentiles are both {lo:G6} (a constant or nearly constant image)");
        var px = image.Pixels;
        var result = new float[px.Length];
        var scale = 1.0 / (hi - lo);
        for (var i = 0; i < px.Length; i++) result[i] = (float)Math.Clamp((px[i] - lo) * scale, 0, 1);
        return result;
    }

    /// <summary>Linear-interpolated quantile of sorted values (numpy's default).</summary>
    public static double Quantile(float[] sorted, double q)
    {
        var pos = q * (sorted.Length - 1);
        var i = (int)Math.Floor(pos);
        if (i >= sorted.Length - 1) return sorted[^1];
        return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
    }
}
