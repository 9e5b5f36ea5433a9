namespace Hypha.Imaging;

/// <summary>
/// "No contrast" judged the same under every normalization: an image whose <c>low</c> and <c>high</c> percentiles
/// (those of <c>--normalize percentile</c>, 1 and 99.8 by default) are equal is refused, also under
/// <c>standardize</c>, whose z-score would otherwise stretch a single odd pixel of an all-65535 frame into an image.
/// O(n) without sorting: equal percentiles need one value to cover both ranks, so it is the majority value
/// (Boyer-Moore vote), and its rank range is counted.
/// </summary>
public static class NoContrast
{
    public static void Check(RawImage image, double low, double high)
    {
        if (!(low >= 0 && low < high && high <= 100)) return; // Percentile reports bad percentiles itself
        var px = image.Pixels;
        if (px.Length < 2) return;
        float candidate = px[0];
        long votes = 0;
        foreach (var v in px)
        {
            if (votes == 0) { candidate = v; votes = 1; }
            else if (v == candidate) votes++;
            else votes--;
        }
        long less = 0, equal = 0;
        foreach (var v in px)
        {
            if (v < candidate) less++;
            else if (v == candidate) equal++;
        }
        if (equal == px.Length) return; // wholly constant: Standardize says "standard deviation 0"
        // Quantile interpolates between sorted[floor(pos)] and sorted[floor(pos) + 1], pos = q (n - 1).
        double n1 = px.Length - 1;
        long first = (long)Math.Floor(low / 100 * n1), last = Math.Min(px.Length - 1, (long)Math.Floor(high / 100 * n1) + 1);
        if (first >= less && last <= less + equal - 1)
            throw HyphaException.Input(image.Source,
                $"{image.Label} has no contrast: its {low} and {high} percentiles are both {candidate:G6} (a constant or nearly constant image)");
    }
}
