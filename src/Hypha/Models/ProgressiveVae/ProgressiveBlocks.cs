using Hypha.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.ProgressiveVae;

/// <summary>The normalization after each convolution: <see cref="PixelNorm"/> (default) or batch norm.</summary>
static class ProgressiveNorm
{
    public static Module<Tensor, Tensor> Create(int channels, bool pixelNorm) =>
        pixelNorm ? new PixelNorm() : BatchNorm2d(channels);
}

/// <summary>
/// One encoder block of the progressive VAE: a ResNet BasicBlock built from <see cref="EqualizedConv2d"/>:
/// conv3x3 (stride 2 when <c>down</c>) - norm - ReLU - conv3x3 - norm, plus an identity or 1x1 (strided) shortcut
/// (<c>shortcut</c>) with norm; sum, ReLU. Norm is <see cref="PixelNorm"/> or batch norm; convolutions have a bias only
/// with pixel norm (batch norm has its own).
/// </summary>
public sealed class ProEncoderBlock : Module<Tensor, Tensor>
{
    readonly EqualizedConv2d conv1, conv2;
    readonly Module<Tensor, Tensor> norm1, norm2;
    readonly Sequential? shortcut;

    public ProEncoderBlock(int inChannels, int outChannels, bool down, bool equalized, bool pixelNorm) : base(nameof(ProEncoderBlock))
    {
        conv1 = new EqualizedConv2d(inChannels, outChannels, 3, stride: down ? 2 : 1, padding: 1, bias: pixelNorm, equalized: equalized);
        norm1 = ProgressiveNorm.Create(outChannels, pixelNorm);
        conv2 = new EqualizedConv2d(outChannels, outChannels, 3, padding: 1, bias: pixelNorm, equalized: equalized);
        norm2 = ProgressiveNorm.Create(outChannels, pixelNorm);
        if (down || inChannels != outChannels)
            shortcut = Sequential(
                new EqualizedConv2d(inChannels, outChannels, 1, stride: down ? 2 : 1, bias: pixelNorm, equalized: equalized, gain: 1),
                ProgressiveNorm.Create(outChannels, pixelNorm));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(norm1.forward(conv1.forward(x)));
        y = norm2.forward(conv2.forward(y));
        var s = shortcut is null ? x : shortcut.forward(x);
        return functional.relu(y + s).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// One decoder block of the progressive VAE, the mirror of <see cref="ProEncoderBlock"/>: when <c>up</c>, nearest
/// 2x upsampling first (ProGAN; no transposed convolution, so no checkerboard), then conv3x3 - norm - ReLU - conv3x3 -
/// norm, plus an identity or 1x1 shortcut (<c>shortcut</c>) with norm; sum, ReLU.
/// </summary>
public sealed class ProDecoderBlock : Module<Tensor, Tensor>
{
    readonly EqualizedConv2d conv1, conv2;
    readonly Module<Tensor, Tensor> norm1, norm2;
    readonly Sequential? shortcut;
    readonly bool _up;

    public ProDecoderBlock(int inChannels, int outChannels, bool up, bool equalized, bool pixelNorm) : base(nameof(ProDecoderBlock))
    {
        _up = up;
        conv1 = new EqualizedConv2d(inChannels, outChannels, 3, padding: 1, bias: pixelNorm, equalized: equalized);
        norm1 = ProgressiveNorm.Create(outChannels, pixelNorm);
        conv2 = new EqualizedConv2d(outChannels, outChannels, 3, padding: 1, bias: pixelNorm, equalized: equalized);
        norm2 = ProgressiveNorm.Create(outChannels, pixelNorm);
        if (inChannels != outChannels)
            shortcut = Sequential(
                new EqualizedConv2d(inChannels, outChannels, 1, bias: pixelNorm, equalized: equalized, gain: 1),
                ProgressiveNorm.Create(outChannels, pixelNorm));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        if (_up) x = functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        var y = functional.relu(norm1.forward(conv1.forward(x)));
        y = norm2.forward(conv2.forward(y));
        var s = shortcut is null ? x : shortcut.forward(x);
        return functional.relu(y + s).MoveToOuterDisposeScope();
    }
}
