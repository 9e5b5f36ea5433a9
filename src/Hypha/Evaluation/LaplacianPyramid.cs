using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// Laplacian pyramid as in ProGAN's sliced_wasserstein.py (which matches cv2.pyrDown/pyrUp): 5x5 binomial
/// filter [1 4 6 4 1]^2 / 256 with mirror (reflect) padding; down = filter then keep every other pixel; up =
/// zero-insert then filter with 4x the kernel. Level i is the band-pass image at side/2^i; the last level is the
/// low-pass (Gaussian) residual.
/// </summary>
public static class LaplacianPyramid
{
    /// <summary>The <paramref name="levels"/> pyramid levels of x [N, C, H, W], finest first (float32).</summary>
    public static List<Tensor> Build(Tensor x, int levels)
    {
        var pyramid = new List<Tensor> { x.to(float32) };
        for (var i = 1; i < levels; i++)
        {
            var down = Down(pyramid[^1]);
            pyramid[^1] = pyramid[^1] - Up(down, pyramid[^1].shape[2], pyramid[^1].shape[3]);
            pyramid.Add(down);
        }
        return pyramid;
    }

    static Tensor Kernel(long channels, double gain)
    {
        var k = tensor(new float[] { 1, 4, 6, 4, 1 });
        return (k.outer(k) * (float)(gain / 256.0)).expand(channels, 1, 5, 5);
    }

    /// <summary>Blur and subsample by 2.</summary>
    public static Tensor Down(Tensor x)
    {
        var c = x.shape[1];
        var padded = nn.functional.pad(x, [2, 2, 2, 2], PaddingModes.Reflect);
        return nn.functional.conv2d(padded, Kernel(c, 1), groups: c)[.., .., TensorIndex.Slice(0, null, 2), TensorIndex.Slice(0, null, 2)];
    }

    /// <summary>Upsample by 2 (zero insertion) to [h, w] and blur with gain 4.</summary>
    public static Tensor Up(Tensor x, long h, long w)
    {
        var c = x.shape[1];
        var up = zeros(x.shape[0], c, h, w, dtype: x.dtype);
        up[.., .., TensorIndex.Slice(0, null, 2), TensorIndex.Slice(0, null, 2)] = x;
        var padded = nn.functional.pad(up, [2, 2, 2, 2], PaddingModes.Reflect);
        return nn.functional.conv2d(padded, Kernel(c, 4), groups: c);
    }
}
