using static TorchSharp.torch;

namespace Hypha.Imaging;

/// <summary>Peak signal-to-noise ratio of images in [0, 1]: 10 log10(1 / MSE) dB, the MSE floored at
/// <see cref="MinMse"/> so identical images give 100 dB. The one home of the formula: training metrics, validation,
/// the demo and the psnr metric use it.</summary>
public static class Psnr
{
    /// <summary>MSE floor that caps PSNR at 100 dB.</summary>
    public const double MinMse = 1e-10;

    /// <summary>PSNR in dB of a mean squared error per pixel.</summary>
    public static double FromMse(double msePerPixel) => 10 * Math.Log10(1.0 / Math.Max(msePerPixel, MinMse));

    /// <summary>PSNR in dB of MSE values (any shape, any device).</summary>
    public static Tensor FromMse(Tensor msePerPixel) => 10.0 * (1.0 / msePerPixel.clamp_min(MinMse)).log10();

    /// <summary>PSNR in dB of each image pair [N] (float64) of x and y [N, C, H, W].</summary>
    public static Tensor PerImage(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        var mse = (x.to(float64) - y.to(float64)).square().mean([1, 2, 3]);
        return FromMse(mse).MoveToOuterDisposeScope();
    }
}
