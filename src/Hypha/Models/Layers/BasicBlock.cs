using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.Layers;

/// <summary>
/// torchvision's ResNet BasicBlock: conv3x3(stride) - BN - ReLU - conv3x3 - BN, plus an identity or
/// 1x1-conv shortcut (<c>downsample</c>), then ReLU. Convolutions have no bias (BN follows).
/// </summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    readonly AutocastConv2d conv1, conv2;
    readonly Fp32BatchNorm2d bn1, bn2;
    readonly Sequential? downsample;

    /// <param name="stride">Stride of the first convolution and of the shortcut; default 1.</param>
    public BasicBlock(int inChannels, int outChannels, int stride = 1) : base(nameof(BasicBlock))
    {
        conv1 = new AutocastConv2d(inChannels, outChannels, 3, stride: stride, padding: 1, hasBias: false);
        bn1 = new Fp32BatchNorm2d(outChannels);
        conv2 = new AutocastConv2d(outChannels, outChannels, 3, padding: 1, hasBias: false);
        bn2 = new Fp32BatchNorm2d(outChannels);
        if (stride != 1 || inChannels != outChannels)
            downsample = Sequential(new AutocastConv2d(inChannels, outChannels, 1, stride: stride, hasBias: false), new Fp32BatchNorm2d(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // Intermediates are released when the block returns (autograd keeps what backward needs): without this scope
        // they live until the end of the training step and peak memory grows by half.
        using var scope = NewDisposeScope();
        var y = functional.relu(bn1.forward(conv1.forward(x)));
        y = bn2.forward(conv2.forward(y));
        var shortcut = downsample is null ? x : downsample.forward(x);
        return functional.relu(y.add_(shortcut)).MoveToOuterDisposeScope();
    }
}
