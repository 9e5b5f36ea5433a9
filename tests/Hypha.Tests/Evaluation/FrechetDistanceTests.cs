using Hypha.Evaluation;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

public class FrechetDistanceTests
{
    [Fact]
    public void Diagonal_covariances_match_the_closed_form()
    {
        using var scope = NewDisposeScope();
        var mu1 = tensor(new double[] { 0, 1, 2 });
        var mu2 = tensor(new double[] { 1, 1, 0 });
        double[] a = [1, 4, 9], b = [4, 1, 0.25];
        var expected = 1 + 0 + 4 + a.Zip(b).Sum(p => Math.Pow(Math.Sqrt(p.First) - Math.Sqrt(p.Second), 2));
        var fd = FrechetDistance.FromStatistics(mu1, diag(tensor(a)), mu2, diag(tensor(b)));
        Assert.Equal(expected, fd, 10);
    }

    [Fact]
    public void Non_commuting_covariances_match_the_2x2_closed_form()
    {
        using var scope = NewDisposeScope();
        // For 2x2: tr((C1 C2)^(1/2)) = sqrt(tr(C1 C2) + 2 sqrt(det(C1 C2))).
        var c1 = tensor(new double[,] { { 2, 0.8 }, { 0.8, 1 } });
        var c2 = tensor(new double[,] { { 1, -0.3 }, { -0.3, 3 } });
        var p = c1.matmul(c2);
        var trSqrt = Math.Sqrt(p.trace().item<double>() + 2 * Math.Sqrt(linalg.det(p).item<double>()));
        var mu = zeros(2, dtype: float64);
        var expected = c1.trace().item<double>() + c2.trace().item<double>() - 2 * trSqrt;
        Assert.Equal(expected, FrechetDistance.FromStatistics(mu, c1, mu, c2), 10);
    }

    [Fact]
    public void Shifted_gaussian_samples_give_the_squared_shift()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(7);
        var a = randn([20000, 4], dtype: float64, generator: gen);
        var shift = tensor(new double[] { 1, -2, 0, 0.5 });
        var b = randn([20000, 4], dtype: float64, generator: gen) + shift;
        var fd = FrechetDistance.Compute(a, b);
        Assert.InRange(fd, 5.25 - 0.1, 5.25 + 0.1); // |shift|^2 = 1 + 4 + 0.25, covariances equal
    }

    [Fact]
    public void Identical_sets_give_zero_even_when_rank_deficient()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(3);
        var x = rand([12, 64], generator: gen); // 12 points in 64 dimensions: covariance of rank 11
        var trace = FrechetDistance.Statistics(x).Covariance.trace().item<double>();
        Assert.InRange(FrechetDistance.Compute(x, x), -1e-4 * trace, 1e-4 * trace);
        Assert.True(FrechetDistance.Compute(x, x + 0.5) > 0.2);
    }

    [Fact]
    public void SqrtPsd_squares_back()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(5);
        var a = randn([6, 6], dtype: float64, generator: gen);
        var c = a.matmul(a.t());
        var s = FrechetDistance.SqrtPsd(c);
        Assert.True(s.matmul(s).allclose(c, rtol: 1e-9, atol: 1e-9));
    }
}
