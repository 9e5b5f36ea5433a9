using Hypha.Evaluation;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

public class SsimTests
{
    [Fact]
    public void Ssim_of_an_image_with_itself_is_one_and_falls_with_noise()
    {
        using var scope = NewDisposeScope();
        var x = TestImages.AmfChunks[..8];
        var self = Ssim.PerImage(x, x);
        Assert.True((self - 1).abs().max().item<double>() < 1e-9);
        var light = Ssim.PerImage(x, TestImages.Noisy(x, 0.02, 1)).mean().item<double>();
        var heavy = Ssim.PerImage(x, TestImages.Noisy(x, 0.2, 2)).mean().item<double>();
        Assert.True(light < 0.999, $"light noise {light}");
        Assert.True(heavy < light - 0.1, $"heavy {heavy} vs light {light}");
    }

    [Fact]
    public void Ssim_of_constant_images_matches_the_luminance_formula()
    {
        using var scope = NewDisposeScope();
        const double a = 0.4, b = 0.6, c1 = 0.01 * 0.01;
        var x = full(new long[] { 1, 1, 16, 16 }, a, dtype: float32);
        var y = full(new long[] { 1, 1, 16, 16 }, b, dtype: float32);
        var expected = (2 * a * b + c1) / (a * a + b * b + c1);
        Assert.Equal(expected, Ssim.PerImage(x, y).item<double>(), 6);
    }

    [Fact]
    public void Float32_ssim_matches_a_float64_computation()
    {
        using var scope = NewDisposeScope();
        var x = TestImages.AmfChunks[..16];
        var y = TestImages.Noisy(x, 0.05, 7);
        var reference = Ssim.Maps(x.to(float64), y.to(float64), 1.0).Ssim.mean([1, 2, 3]);
        Assert.True((Ssim.PerImage(x, y) - reference).abs().max().item<double>() < 1e-5);
    }

    [Fact]
    public void Ssim_matches_a_naive_windowed_computation()
    {
        using var scope = NewDisposeScope();
        // 13x13 images give a 3x3 valid map; recompute it with explicit loops over 11x11 Gaussian windows.
        var gen = new Generator(11);
        var x = rand([1, 1, 13, 13], dtype: float64, generator: gen);
        var y = (x + 0.2 * rand([1, 1, 13, 13], dtype: float64, generator: gen)).clamp(0, 1);
        var xs = x.data<double>().ToArray();
        var ys = y.data<double>().ToArray();
        var g = new double[11];
        for (var i = 0; i < 11; i++) g[i] = Math.Exp(-(i - 5) * (i - 5) / (2 * 1.5 * 1.5));
        var gs = g.Sum();
        double c1 = 1e-4, c2 = 9e-4, total = 0;
        for (var oy = 0; oy < 3; oy++)
        for (var ox = 0; ox < 3; ox++)
        {
            double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
            for (var i = 0; i < 11; i++)
            for (var j = 0; j < 11; j++)
            {
                var w = g[i] * g[j] / (gs * gs);
                double a = xs[(oy + i) * 13 + ox + j], b = ys[(oy + i) * 13 + ox + j];
                mx += w * a; my += w * b; xx += w * a * a; yy += w * b * b; xy += w * a * b;
            }
            var vx = xx - mx * mx;
            var vy = yy - my * my;
            var cxy = xy - mx * my;
            total += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        }
        Assert.Equal(total / 9, Ssim.PerImage(x.to(float32), y.to(float32)).item<double>(), 5);
    }

    [Fact]
    public void Ssim_window_is_a_normalized_gaussian()
    {
        using var scope = NewDisposeScope();
        var w = Ssim.Window();
        Assert.Equal(new long[] { 11, 11 }, w.shape);
        Assert.Equal(1.0, w.sum().item<double>(), 12);
        Assert.Equal(Math.Exp(-1 / (2 * 1.5 * 1.5)), (w[5, 6] / w[5, 5]).item<double>(), 12);
    }

    [Fact]
    public void MsSsim_of_constant_images_weights_luminance_at_the_coarsest_scale_only()
    {
        using var scope = NewDisposeScope();
        // Constant images: contrast-structure is 1 at every scale, luminance enters only at the coarsest scale,
        // with its renormalized weight (64 px: 3 scales).
        const double a = 0.4, b = 0.6, c1 = 0.01 * 0.01;
        var x = full(new long[] { 1, 1, 64, 64 }, a, dtype: float32);
        var y = full(new long[] { 1, 1, 64, 64 }, b, dtype: float32);
        var luminance = (2 * a * b + c1) / (a * a + b * b + c1);
        var expected = Math.Pow(luminance, 0.3001 / (0.0448 + 0.2856 + 0.3001));
        Assert.Equal(expected, Ssim.MsSsimPerImage(x, y).item<double>(), 5);
    }

    [Theory]
    [InlineData(56, 3)]
    [InlineData(64, 3)]
    [InlineData(32, 2)]
    [InlineData(11, 1)]
    [InlineData(176, 5)]
    [InlineData(512, 5)]
    public void MsSsim_scales_adapt_to_the_image_size(int side, int scales) =>
        Assert.Equal(scales, Ssim.MsSsimScales(side));

    [Fact]
    public void MsSsim_of_an_image_with_itself_is_one_and_falls_with_noise()
    {
        using var scope = NewDisposeScope();
        var x = TestImages.AmfChunks[..8];
        Assert.True((Ssim.MsSsimPerImage(x, x) - 1).abs().max().item<double>() < 1e-9);
        var light = Ssim.MsSsimPerImage(x, TestImages.Noisy(x, 0.02, 1)).mean().item<double>();
        var heavy = Ssim.MsSsimPerImage(x, TestImages.Noisy(x, 0.2, 2)).mean().item<double>();
        Assert.True(light < 0.9999 && heavy < light, $"light {light}, heavy {heavy}");
        var shifted = Ssim.MsSsimPerImage(x[..4], x[4..8]).mean().item<double>();
        Assert.True(shifted < light, $"different chunks {shifted}");
    }

    [Fact]
    public void Ms_ssim_metric_floor_is_real_diversity_and_collapsed_samples_score_higher()
    {
        using var scope = NewDisposeScope();
        var chunks = TestImages.AmfChunks;
        // Mode collapse: every sample is (a noisy copy of) the same chunk.
        var collapsed = TestImages.Noisy(chunks[40..41].expand(32, -1, -1, -1), 0.01, 3);
        using var inputs = new EvaluationInputs
        {
            TrainReal = chunks[..60], TestRealA = chunks[60..95], TestRealB = chunks[95..130], Samples = collapsed,
        };
        var r = new MsSsimMetric { MaxPairs = 64 }.Compute(inputs);
        Assert.True(r.Value > r.Floor!.Value + 0.2, $"collapsed {r.Value} vs floor {r.Floor}");
        Assert.Equal(3, r.Parameters["scales"]);
        Assert.Equal(r.Value, new MsSsimMetric { MaxPairs = 64 }.Compute(inputs).Value); // seeded
    }
}
