using Hypha.Sampling;
using static TorchSharp.torch;

namespace Hypha.Tests.Synthesis;

/// <summary>The window plan of <c>hypha synthesize</c>: every pixel covered, blend weights summing to 1, bad sizes and strides refused.</summary>
public sealed class WindowPlanTests
{
    [Theory]
    [InlineData(64, 64, 64, 32, 1)]
    [InlineData(100, 70, 32, 16, 6 * 4)]
    [InlineData(97, 33, 32, 32, 4 * 2)]
    [InlineData(50, 40, 16, 7, 6 * 5)]
    [InlineData(33, 32, 32, 1, 2)]
    public void Every_pixel_is_covered_and_the_blend_weights_sum_to_one(int width, int height, int window, int stride, int windows)
    {
        var plan = WindowPlan.Create(width, height, window, stride);
        Assert.Equal(windows, plan.Count);
        Assert.Equal(0, plan.Xs[0]);
        Assert.Equal(width - window, plan.Xs[^1]);
        Assert.Equal(height - window, plan.Ys[^1]);
        foreach (var weighting in Enum.GetValues<WindowWeighting>())
        {
            using var scope = NewDisposeScope();
            var coverage = plan.Coverage(weighting);
            Assert.Equal([height, width], coverage.shape);
            Assert.True(coverage.min().item<float>() > 0, $"{weighting}: a pixel no window covers");
            // Accumulate each window's normalized weights w_i / sum_j w_j: the blend's weights at each pixel.
            var w = plan.Weights(weighting);
            Assert.True(w.min().item<float>() > 0);
            var total = zeros([height, width]);
            for (var i = 0; i < plan.Count; i++)
            {
                var (x, y) = plan[i];
                total.narrow(0, y, window).narrow(1, x, window).add_(w / coverage.narrow(0, y, window).narrow(1, x, window));
            }
            Assert.True((total - 1).abs().max().item<float>() < 1e-5f, $"{weighting}: weights do not sum to 1");
        }
    }

    [Fact]
    public void Uniform_coverage_counts_windows_and_the_feather_is_highest_in_the_centre()
    {
        var plan = WindowPlan.Create(64, 32, 32, 16);
        using var coverage = plan.Coverage(WindowWeighting.Uniform);
        Assert.Equal(1f, coverage[0, 0].item<float>());
        Assert.Equal(2f, coverage[0, 16].item<float>()); // windows 0..31 and 16..47
        Assert.Equal(2f, coverage[0, 32].item<float>()); // windows 16..47 and 32..63
        using var feather = plan.Weights(WindowWeighting.Feather);
        Assert.True(feather[16, 16].item<float>() > feather[0, 16].item<float>());
        Assert.Equal(feather[0, 5].item<float>(), feather[31, 5].item<float>());
        Assert.Equal([16, 32, 48], plan.BorderColumns);
        Assert.Empty(plan.BorderRows);
    }

    [Theory]
    [InlineData(63, 64, 64, 32, "smaller than one chunk")]
    [InlineData(64, 64, 64, 0, "--stride must be in 1..64")]
    [InlineData(64, 64, 64, 65, "--stride must be in 1..64")]
    [InlineData(20000, 20000, 64, 32, "more than the 268,435,456")]
    public void Bad_sizes_and_strides_are_refused_with_one_line(int width, int height, int window, int stride, string message)
    {
        var e = Assert.Throws<HyphaException>(() => WindowPlan.Create(width, height, window, stride));
        Assert.Equal(ExitCode.InvalidConfig, e.Code);
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
