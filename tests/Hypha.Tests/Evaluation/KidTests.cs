using Hypha.Evaluation;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

public class KidTests
{
    [Fact]
    public void Same_distribution_is_near_zero_and_a_shift_is_not()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(1);
        var a = randn([400, 8], dtype: float64, generator: gen);
        var b = randn([400, 8], dtype: float64, generator: gen);
        var shifted = b + 1.0;
        using var g1 = new Generator(2);
        var same = KernelDistance.Compute(a, a, g1, subsets: 20, subsetSize: 200);
        using var g2 = new Generator(2);
        var twin = KernelDistance.Compute(a, b, g2, subsets: 20, subsetSize: 200);
        using var g3 = new Generator(2);
        var far = KernelDistance.Compute(a, shifted, g3, subsets: 20, subsetSize: 200);
        Assert.True(far.Mean > 0.5, $"shift {far.Mean}");
        Assert.True(Math.Abs(same.Mean) < 0.02 * far.Mean, $"same {same.Mean} vs {far.Mean}");
        Assert.True(Math.Abs(twin.Mean) < 0.05 * far.Mean, $"twin {twin.Mean} vs {far.Mean}");
        Assert.True(far.Std > 0);
    }

    [Fact]
    public void Unbiased_estimate_matches_a_direct_double_loop()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(4);
        var x = randn([6, 3], dtype: float64, generator: gen);
        var y = randn([6, 3], dtype: float64, generator: gen) + 0.5;
        static double K(Tensor u, Tensor v) => Math.Pow((u * v).sum().item<double>() / 3 + 1, 3);
        double xx = 0, yy = 0, xy = 0;
        for (var i = 0; i < 6; i++)
        for (var j = 0; j < 6; j++)
        {
            if (i != j) { xx += K(x[i], x[j]); yy += K(y[i], y[j]); }
            xy += K(x[i], y[j]);
        }
        var expected = (xx + yy) / 30 - 2 * xy / 36;
        using var g = new Generator(0);
        Assert.Equal(expected, KernelDistance.Compute(x, y, g, subsets: 3, subsetSize: 6).Mean, 9); // full sets: order irrelevant
    }
}
