using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// SSIM (Wang et al. 2004) and MS-SSIM (Wang et al. 2003) by depthwise torch conv2d in float32, as pytorch-msssim
/// (float64 convolution is about 15x slower on CPU); per-image means are returned in float64.
/// Defaults: Gaussian window 11x11, sigma 1.5, K1 0.01, K2 0.03, data range 1, no padding ("valid" maps, as
/// pytorch-msssim); a multi-channel image's value is the mean over channels.
/// </summary>
public static class Ssim
{
    /// <summary>Window side.</summary>
    public const int WindowSize = 11;
    /// <summary>Window Gaussian standard deviation.</summary>
    public const double WindowSigma = 1.5;
    /// <summary>Luminance stabilizer constant: C1 = (K1 * data range)^2.</summary>
    public const double K1 = 0.01;
    /// <summary>Contrast stabilizer constant: C2 = (K2 * data range)^2.</summary>
    public const double K2 = 0.03;

    /// <summary>MS-SSIM scale weights of Wang et al. 2003, finest scale first.</summary>
    public static IReadOnlyList<double> MsSsimWeights { get; } = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

    /// <summary>SSIM of each image pair: x, y [N, C, H, W] in [0, dataRange], H and W at least 11. Returns [N] float64.</summary>
    public static Tensor PerImage(Tensor x, Tensor y, double dataRange = 1.0)
    {
        using var scope = NewDisposeScope();
        var (ssim, _) = Maps(x.to(float32), y.to(float32), dataRange);
        return ssim.mean([1, 2, 3]).to(float64).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Number of MS-SSIM scales for images of side <paramref name="side"/>: the most (at most 5) for which the
    /// coarsest scale, side / 2^(scales-1), still holds an 11x11 window. 64 or 56 px give 3, 160+ px give 5.
    /// </summary>
    public static int MsSsimScales(int side)
    {
        if (side < WindowSize) throw new ArgumentException($"images must be at least {WindowSize} px for SSIM");
        var scales = 1;
        while (scales < MsSsimWeights.Count && side >> scales >= WindowSize) scales++;
        return scales;
    }

    /// <summary>
    /// MS-SSIM of each image pair, x, y [N, C, H, W], returns [N] float64. Uses <see cref="MsSsimScales"/> scales
    /// (or <paramref name="scales"/>) and the first that many of <see cref="MsSsimWeights"/>, renormalized to sum 1;
    /// 2x2 average pooling between scales; contrast-structure terms of the finer scales and the full SSIM of the
    /// coarsest, each clamped at 0 (as pytorch-msssim) before the weighted geometric mean.
    /// </summary>
    public static Tensor MsSsimPerImage(Tensor x, Tensor y, int? scales = null, double dataRange = 1.0)
    {
        using var scope = NewDisposeScope();
        var m = scales ?? MsSsimScales((int)Math.Min(x.shape[2], x.shape[3]));
        var weights = MsSsimWeights.Take(m).ToArray();
        var total = weights.Sum();
        var a = x.to(float32);
        var b = y.to(float32);
        Tensor result = ones(x.shape[0], dtype: float64);
        for (var j = 0; j < m; j++)
        {
            var (ssim, cs) = Maps(a, b, dataRange);
            var term = (j == m - 1 ? ssim : cs).mean([1, 2, 3]).to(float64).clamp_min(0);
            result = result * term.pow(weights[j] / total);
            if (j < m - 1)
            {
                a = nn.functional.avg_pool2d(a, 2, 2);
                b = nn.functional.avg_pool2d(b, 2, 2);
            }
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Gaussian window [size, size] summing to 1 (float64): the outer product of <see cref="Window1d"/> with itself.</summary>
    public static Tensor Window(int size = WindowSize, double sigma = WindowSigma)
    {
        using var scope = NewDisposeScope();
        var g = Window1d(size, sigma);
        return g.outer(g).MoveToOuterDisposeScope();
    }

    /// <summary>1-D Gaussian [size] summing to 1 (float64).</summary>
    public static Tensor Window1d(int size = WindowSize, double sigma = WindowSigma)
    {
        using var scope = NewDisposeScope();
        var c = arange(size, dtype: float64) - (size - 1) / 2.0;
        var g = (-(c * c) / (2 * sigma * sigma)).exp();
        return (g / g.sum()).MoveToOuterDisposeScope();
    }

    /// <summary>SSIM and contrast-structure maps [N, C, H-10, W-10] of the inputs, in their dtype.</summary>
    internal static (Tensor Ssim, Tensor Cs) Maps(Tensor x, Tensor y, double dataRange)
    {
        var channels = x.shape[1];
        if (x.shape[2] < WindowSize || x.shape[3] < WindowSize)
            throw new ArgumentException($"images must be at least {WindowSize} px for SSIM, got {x.shape[2]}x{x.shape[3]}");
        var w = Window().to(x.dtype).view(1, 1, WindowSize, WindowSize).expand(channels, 1, WindowSize, WindowSize).contiguous();
        Tensor Filter(Tensor t) => nn.functional.conv2d(t, w, groups: channels);
        var c1 = Math.Pow(K1 * dataRange, 2);
        var c2 = Math.Pow(K2 * dataRange, 2);
        var muX = Filter(x);
        var muY = Filter(y);
        // (Co)variances are shift-invariant: computing them from images centred on their own mean keeps float32
        // cancellation (E[x^2] - E[x]^2) small in flat regions, where it would otherwise rival C2.
        var xc = x - x.mean([2, 3], keepdim: true);
        var yc = y - y.mean([2, 3], keepdim: true);
        var muXc = Filter(xc);
        var muYc = Filter(yc);
        var sxx = Filter(xc * xc) - muXc * muXc;
        var syy = Filter(yc * yc) - muYc * muYc;
        var sxy = Filter(xc * yc) - muXc * muYc;
        var cs = (2 * sxy + c2) / (sxx + syy + c2);
        var ssim = (2 * muX * muY + c1) / (muX * muX + muY * muY + c1) * cs;
        return (ssim, cs);
    }
}
