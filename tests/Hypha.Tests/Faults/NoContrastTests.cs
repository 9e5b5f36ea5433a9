using Hypha.Imaging;

namespace Hypha.Tests.Faults;

/// <summary>Issue 15: a nearly constant 16-bit image is refused under standardize as under percentile ("no contrast" judged one way).</summary>
public sealed class NoContrastTests
{
    static RawImage NearlyConstant()
    {
        var px = Enumerable.Repeat(65535f, 100 * 100).ToArray();
        px[4321] = 0;
        return new RawImage("/data/flat.tif", 0, 100, 100, 1, 16, px);
    }

    [Theory]
    [InlineData(NormalizeMode.Standardize)]
    [InlineData(NormalizeMode.Percentile)]
    public void A_nearly_constant_image_has_no_contrast_under_either_normalization(NormalizeMode mode)
    {
        var e = Assert.Throws<HyphaException>(() => Normalization.Apply(NearlyConstant(), mode));
        Assert.Equal(ExitCode.BadInput, e.Code);
        Assert.Contains("/data/flat.tif: flat.tif has no contrast: its 1 and 99.8 percentiles are both 65535", e.Message);
    }

    [Theory]
    [InlineData(NormalizeMode.Standardize)]
    [InlineData(NormalizeMode.Percentile)]
    public void A_real_image_and_a_sparse_one_pass_under_both(NormalizeMode mode)
    {
        foreach (var raw in ImageReader.Read(Tiny.Image, PageSelection.Parse("all"))) Normalization.Apply(raw, mode);
        var px = Enumerable.Repeat(65535f, 100 * 100).ToArray();
        for (var i = 0; i < 300; i++) px[i * 7] = i; // 3% of pixels differ: the percentiles differ
        Normalization.Apply(new RawImage("/data/sparse.tif", 0, 100, 100, 1, 16, px), mode);
    }
}
