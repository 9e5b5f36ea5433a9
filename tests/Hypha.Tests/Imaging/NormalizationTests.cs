using Hypha.Imaging;

namespace Hypha.Tests.Imaging;

public class NormalizationTests
{
    static RawImage Image(params float[] px) => new("mem.png", 0, px.Length, 1, 1, 8, px);

    [Fact]
    public void StandardizeIsZScoreClippedToOneSigmaThenRescaled()
    {
        // Values 0, 2, 4, 6, 8: mean 4, population std sqrt(8).
        var result = Normalization.Standardize(Image(0, 2, 4, 6, 8));
        double std = Math.Sqrt(8);
        double[] expected = [0, (Math.Max(-1, -2 / std) + 1) / 2, 0.5, (Math.Min(1, 2 / std) + 1) / 2, 1];
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], result[i], 6);
    }

    [Fact]
    public void StandardizeIsInvariantToGainAndOffset()
    {
        float[] values = [10, 20, 35, 50, 90, 200];
        var a = Normalization.Standardize(Image(values));
        var b = Normalization.Standardize(Image(values.Select(v => (v + 1000) * 3).ToArray()));
        for (var i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 5);
    }

    [Fact]
    public void PercentileMapsTheChosenPercentilesToZeroAndOne()
    {
        var px = Enumerable.Range(0, 101).Select(i => (float)i).ToArray(); // 0..100
        var result = Normalization.Percentile(Image(px), 10, 90);
        Assert.Equal(0, result[5]);         // below the 10th percentile: clipped
        Assert.Equal(0, result[10], 6);
        Assert.Equal(0.5, result[50], 6);
        Assert.Equal(1, result[90], 6);
        Assert.Equal(1, result[100]);       // above the 90th: clipped
    }

    [Fact]
    public void ConstantImageIsRejectedWithItsName()
    {
        var e = Assert.Throws<HyphaException>(() => Normalization.Apply(Image(7, 7, 7, 7), NormalizeMode.Standardize));
        Assert.Equal(ExitCode.BadInput, e.Code);
        Assert.Contains("mem.png", e.Message);
        Assert.Contains("constant", e.Message);
    }

    [Fact]
    public void GrayIsLuminanceOfRgb()
    {
        var rgb = new RawImage("c.png", 0, 1, 1, 3, 8, [100, 50, 200]);
        var gray = rgb.To(ChannelMode.Gray);
        Assert.Equal(1, gray.Channels);
        Assert.Equal(0.299 * 100 + 0.587 * 50 + 0.114 * 200, gray.Pixels[0], 3);
    }
}
