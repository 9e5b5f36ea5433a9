using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.Layers;

/// <summary>
/// The decoder's mirror of <see cref="BasicBlock"/> with transposed convolutions: convT3x3 - BN - ReLU -
/// convT3x3(stride 2 when upsampling) - BN, plus a shortcut (<c>upsample</c>), then ReLU. The shortcut upsamples
/// with a kernel-2 stride-2 transposed convolution so every output pixel gets a value (a 1x1 stride-2 one would
/// leave a grid of zeros: see docs/model-resnet-vae.md).
/// </summary>
public sealed class UpBlock : Module<Tensor, Tensor>
{
    readonly AutocastConvTranspose2d conv1, conv2;
    readonly Fp32BatchNorm2d bn1, bn2;
    readonly Sequential? upsample;

    /// <param name="up">Double the resolution; default false.</param>
    public UpBlock(int inChannels, int outChannels, bool up = false) : base(nameof(UpBlock))
    {
        conv1 = new AutocastConvTranspose2d(inChannels, inChannels, 3, padding: 1, hasBias: false);
        bn1 = new Fp32BatchNorm2d(inChannels);
        conv2 = up
            ? new AutocastConvTranspose2d(inChannels, outChannels, 3, stride: 2, padding: 1, outputPadding: 1, hasBias: false)
            : new AutocastConvTranspose2d(inChannels, outChannels, 3, padding: 1, hasBias: false);
        bn2 = new Fp32BatchNorm2d(outChannels);
        if (up || inChannels != outChannels)
            upsample = Sequential(
                up ? new AutocastConvTranspose2d(inChannels, outChannels, 2, stride: 2, hasBias: false) : new AutocastConvTranspose2d(inChannels, outChannels, 1, hasBias: false),
                new Fp32BatchNorm2d(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // Intermediates are released when the block returns (autograd keeps what backward needs): without this scope
        // they live until the end of the training step and peak memory grows by half.
        using var scope = NewDisposeScope();
        var y = functional.relu(bn1.forward(conv1.forward(x)));
        y = bn2.forward(conv2.forward(y));
        var shortcut = upsample is null ? x : upsample.forward(x);
        return functional.relu(y.add_(shortcut)).MoveToOuterDisposeScope();
    }
}
