using Hypha.Imaging;

namespace Hypha.Data;

/// <summary>
/// The region split of one image: along its longer axis, [0, a) is training, [a, b) validation and [b, L) test.
/// Each held-out band is at least one chunk wide; a chunk belongs to a part only if it lies wholly inside its band.
/// </summary>
internal sealed class RegionBands
{
    readonly bool _alongX;
    readonly int _valStart, _testStart, _length;

    RegionBands(bool alongX, int valStart, int testStart, int length) =>
        (_alongX, _valStart, _testStart, _length) = (alongX, valStart, testStart, length);

    /// <summary>The validation band's share of the image's longer side.</summary>
    public double ValidationShare => (double)(_testStart - _valStart) / _length;

    /// <summary>The test band's share of the image's longer side.</summary>
    public double TestShare => (double)(_length - _testStart) / _length;

    public static RegionBands For(NormalizedImage img, int chunk, int stride, SplitPlan plan)
    {
        bool alongX = img.Width >= img.Height;
        int length = alongX ? img.Width : img.Height;
        int test = Math.Max(chunk, (int)Math.Ceiling(plan.TestFraction * length));
        int val = Math.Max(chunk, (int)Math.Ceiling(plan.ValFraction * length));
        // Band edges sit on the stride grid, so each band of at least one chunk holds at least one chunk origin.
        int testStart = (length - test) / stride * stride;
        int valStart = Math.Max(0, testStart - val) / stride * stride;
        if (testStart - val < 0 || valStart < chunk)
            throw HyphaException.Input(img.Source,
                $"{img.Label} ({img.Width}x{img.Height}) is too small for the region split at chunk {chunk}: it needs at least " +
                $"{test + val + chunk} pixels along its longer side; use a smaller --chunk, --split chunks, or more images with --split images");
        return new RegionBands(alongX, valStart, testStart, length);
    }

    /// <summary>The part a chunk at (x, y) lies in, or null when it straddles a band edge.</summary>
    public DataSplit? Assign(int x, int y, int size)
    {
        int start = _alongX ? x : y, end = start + size;
        if (end <= _valStart) return DataSplit.Train;
        if (start >= _valStart && end <= _testStart) return DataSplit.Validation;
        if (start >= _testStart) return DataSplit.Test;
        return null;
    }
}
