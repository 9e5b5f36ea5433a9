using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017):
/// |mu1 - mu2|^2 + tr(C1) + tr(C2) - 2 tr((C1 C2)^(1/2)), in float64. The trace of the matrix square root uses
/// tr((C1 C2)^(1/2)) = tr((C1^(1/2) C2 C1^(1/2))^(1/2)), where both roots are of symmetric positive semi-definite
/// matrices and come from eigendecompositions (eigenvalues clamped at 0). Covariances are unbiased (N - 1).
/// </summary>
public static class FrechetDistance
{
    /// <summary>FD between feature sets a [N, D] and b [M, D] (N, M at least 2).</summary>
    public static double Compute(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var (mu1, c1) = Statistics(a);
        var (mu2, c2) = Statistics(b);
        return FromStatistics(mu1, c1, mu2, c2);
    }

    /// <summary>Mean [D] and unbiased covariance [D, D] of features [N, D], float64.</summary>
    public static (Tensor Mean, Tensor Covariance) Statistics(Tensor features)
    {
        if (features.dim() != 2 || features.shape[0] < 2) throw new ArgumentException("features must be [N >= 2, D]");
        using var scope = NewDisposeScope();
        var x = features.to(float64);
        var mu = x.mean([0]);
        var xc = x - mu;
        var cov = xc.t().matmul(xc) / (x.shape[0] - 1);
        return (mu.MoveToOuterDisposeScope(), cov.MoveToOuterDisposeScope());
    }

    /// <summary>FD between N(mu1, c1) and N(mu2, c2); covariances symmetric positive semi-definite.</summary>
    public static double FromStatistics(Tensor mu1, Tensor c1, Tensor mu2, Tensor c2)
    {
        using var scope = NewDisposeScope();
        mu1 = mu1.to(float64); mu2 = mu2.to(float64); c1 = c1.to(float64); c2 = c2.to(float64);
        var s1 = SqrtPsd(c1);
        var m = s1.matmul(c2).matmul(s1);
        m = (m + m.t()) / 2;
        var trSqrt = linalg.eigvalsh(m).clamp_min(0).sqrt().sum();
        var d = (mu1 - mu2).square().sum() + c1.trace() + c2.trace() - 2 * trSqrt;
        return d.item<double>();
    }

    /// <summary>Symmetric square root V diag(sqrt(max(lambda, 0))) V^T of a symmetric matrix.</summary>
    public static Tensor SqrtPsd(Tensor c)
    {
        using var scope = NewDisposeScope();
        var sym = (c + c.t()) / 2;
        var (values, vectors) = linalg.eigh(sym);
        var root = (vectors * values.clamp_min(0).sqrt().unsqueeze(0)).matmul(vectors.t());
        return root.MoveToOuterDisposeScope();
    }
}
