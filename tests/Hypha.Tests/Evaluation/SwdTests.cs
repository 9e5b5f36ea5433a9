using Hypha.Evaluation;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

public class SwdTests
{
    [Theory]
    [InlineData(64, new[] { 64, 32, 16, 8 })]
    [InlineData(56, new[] { 56, 28, 14 })]
    [InlineData(256, new[] { 256, 128, 64, 32 })]
    public void Levels_adapt_to_small_images(int side, int[] expected) =>
        Assert.Equal(expected, new SwdMetric().LevelSides(side));

    [Fact]
    public void Laplacian_pyramid_reconstructs_the_image()
    {
        using var scope = NewDisposeScope();
        var x = TestImages.AmfChunks[..2];
        var p = LaplacianPyramid.Build(x, 3);
        Assert.Equal(new long[] { 2, 1, 16, 16 }, p[2].shape);
        var up1 = LaplacianPyramid.Up(p[2], 32, 32) + p[1];
        var rebuilt = LaplacianPyramid.Up(up1, 64, 64) + p[0];
        Assert.True((rebuilt - x).abs().max().item<float>() < 1e-5);
        // A constant image has no band-pass content and a constant low-pass.
        var flat = LaplacianPyramid.Build(full(new long[] { 1, 1, 32, 32 }, 0.3f), 2);
        Assert.True(flat[0].abs().max().item<float>() < 1e-6);
        Assert.True((flat[1] - 0.3f).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Identical_sets_give_zero_and_perturbed_sets_do_not()
    {
        using var scope = NewDisposeScope();
        var chunks = TestImages.AmfChunks;
        var metric = new SwdMetric { PatchesPerImage = 32 };
        var same = metric.PerLevel(chunks[..40], chunks[..40], 1);
        Assert.All(same, v => Assert.Equal(0, v, 9));
        var real = metric.PerLevel(chunks[..40], chunks[40..80], 1);
        var noisy = metric.PerLevel(chunks[..40], TestImages.Noisy(chunks[40..80], 0.15, 5), 1);
        Assert.True(real.Average() > 0);
        Assert.True(noisy[0] > 2 * real[0], $"finest level: noisy {noisy[0]} vs real {real[0]}");
    }

    [Fact]
    public void Descriptors_are_normalized_per_set_as_progan()
    {
        using var scope = NewDisposeScope();
        // Each set's descriptors are normalized to mean 0, std 1 per channel, so an affine change of intensity
        // (contrast 0.5, offset 0.2) of one set is invisible to SWD.
        var chunks = TestImages.AmfChunks[..20];
        var metric = new SwdMetric { PatchesPerImage = 16 };
        var affine = metric.PerLevel(chunks, chunks * 0.5f + 0.2f, 4);
        Assert.All(affine, v => Assert.True(Math.Abs(v) < 1e-2, $"affine {v}"));
        using var gen = new Generator(1);
        var d = SlicedWasserstein.Descriptors(LaplacianPyramid.Build(chunks, 2)[0], 16, 7, gen);
        Assert.Equal(new long[] { 20 * 16, 49 }, d.shape);
        Assert.True(d.mean().abs().item<float>() < 1e-4);
        Assert.Equal(1.0, d.std().item<float>(), 2);
    }

    [Fact]
    public void Metric_reports_levels_average_and_floor()
    {
        using var scope = NewDisposeScope();
        var chunks = TestImages.AmfChunks;
        using var inputs = new EvaluationInputs
        {
            TrainReal = chunks[..50], TestRealA = chunks[50..90], TestRealB = chunks[90..130],
            Samples = TestImages.Smooth(40, 1, 64, 9), Seed = 3,
        };
        var r = new SwdMetric { PatchesPerImage = 32 }.Compute(inputs);
        Assert.Equal(["level_64", "level_32", "level_16", "level_8"], r.Values.Keys);
        Assert.Equal(r.Values.Values.Average(), r.Value, 9);
        Assert.True(r.Value > r.Floor!.Value, $"smooth noise {r.Value} vs floor {r.Floor}");
    }
}
