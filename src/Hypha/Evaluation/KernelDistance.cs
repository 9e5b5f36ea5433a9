using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// Kernel Inception Distance estimator (Bińkowski et al. 2018) on any features: the unbiased MMD^2 with the cubic
/// polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets drawn without replacement, as
/// torch-fidelity and clean-fid. Defaults: 100 subsets of min(1000, |a|, |b|) vectors.
/// </summary>
public static class KernelDistance
{
    /// <summary>Mean and standard deviation over subsets of the unbiased MMD^2 between features a [N, D] and b [M, D].</summary>
    public static (double Mean, double Std) Compute(Tensor a, Tensor b, Generator generator, int subsets = 100, int subsetSize = 1000)
    {
        using var scope = NewDisposeScope();
        var x = a.to(float64);
        var y = b.to(float64);
        var d = x.shape[1];
        var m = Math.Min(subsetSize, Math.Min(x.shape[0], y.shape[0]));
        if (m < 2) throw new ArgumentException("KID needs at least 2 vectors in each set");
        var values = new double[subsets];
        for (var s = 0; s < subsets; s++)
        {
            using var inner = NewDisposeScope();
            var xs = x.index_select(0, randperm(x.shape[0], generator: generator)[..(int)m]);
            var ys = y.index_select(0, randperm(y.shape[0], generator: generator)[..(int)m]);
            var kxx = (xs.matmul(xs.t()) / d + 1).pow(3);
            var kyy = (ys.matmul(ys.t()) / d + 1).pow(3);
            var kxy = (xs.matmul(ys.t()) / d + 1).pow(3);
            var offDiagonal = kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum();
            var mmd = offDiagonal / (m * (m - 1)) - 2 * kxy.sum() / (m * m);
            values[s] = mmd.item<double>();
        }
        var mean = values.Average();
        var std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, subsets - 1));
        return (mean, std);
    }
}
