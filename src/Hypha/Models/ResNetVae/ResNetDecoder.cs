using Hypha.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.ResNetVae;

/// <summary>The encoder's mirror image: linear to 8w x (C/32)^2, four stages of <see cref="UpBlock"/>, the kernel-2
/// stride-2 transposed convolution that replaces un-pooling, and the stem's 7x7 stride-2 mirror with a sigmoid.</summary>
public sealed class ResNetDecoder : Module<Tensor, Tensor>
{
    readonly AutocastLinear fc;
    readonly Sequential layer4, layer3, layer2, layer1;
    readonly AutocastConvTranspose2d unpool, head;
    readonly Fp32BatchNorm2d unpool_bn;
    readonly int _width, _side;

    public ResNetDecoder(ResNetVaeOptions o) : base(nameof(ResNetDecoder))
    {
        int w = o.Width;
        _width = w;
        _side = o.Resolution / 32;
        fc = new AutocastLinear(o.Latent, 8 * w * _side * _side);
        layer4 = Sequential(new UpBlock(8 * w, 8 * w), new UpBlock(8 * w, 4 * w, up: true));
        layer3 = Sequential(new UpBlock(4 * w, 4 * w), new UpBlock(4 * w, 2 * w, up: true));
        layer2 = Sequential(new UpBlock(2 * w, 2 * w), new UpBlock(2 * w, w, up: true));
        layer1 = Sequential(new UpBlock(w, w), new UpBlock(w, w));
        unpool = new AutocastConvTranspose2d(w, w, 2, stride: 2, hasBias: false);
        unpool_bn = new Fp32BatchNorm2d(w);
        head = new AutocastConvTranspose2d(w, o.Channels, 7, stride: 2, padding: 3, outputPadding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope(); // intermediates go when forward returns, not at the end of the step
        var h = functional.relu(fc.forward(z)).view(-1, 8 * _width, _side, _side);
        h = layer1.forward(layer2.forward(layer3.forward(layer4.forward(h))));
        h = functional.relu(unpool_bn.forward(unpool.forward(h)));
        return functional.sigmoid(head.forward(h)).MoveToOuterDisposeScope();
    }
}
