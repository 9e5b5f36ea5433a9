using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.Layers;

/// <summary>
/// Pixel normalization (ProGAN): the feature vector of every pixel is scaled to unit average square,
/// <c>b = a / sqrt(mean over channels of a^2 + epsilon)</c>, epsilon 1e-8 by default. No parameters; used in
/// place of batch normalization by the progressive VAE.
/// </summary>
public sealed class PixelNorm : Module<Tensor, Tensor>
{
    /// <summary>Added under the square root; default 1e-8 (ProGAN, the thesis).</summary>
    public double Epsilon { get; }

    public PixelNorm(double epsilon = 1e-8) : base(nameof(PixelNorm)) => Epsilon = epsilon;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return (x * (x.square().mean([1], keepdim: true) + Epsilon).rsqrt()).MoveToOuterDisposeScope();
    }
}
