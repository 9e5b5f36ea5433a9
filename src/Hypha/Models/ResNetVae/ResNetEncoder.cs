using Hypha.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.ResNetVae;

/// <summary>ResNet-18 on <c>Channels</c> inputs, then two linear heads for the posterior mean and log-variance.</summary>
public sealed class ResNetEncoder : Module<Tensor, (Tensor Mu, Tensor LogVar)>
{
    readonly AutocastConv2d stem_conv;
    readonly Fp32BatchNorm2d stem_bn;
    readonly Sequential layer1, layer2, layer3, layer4;
    readonly AutocastLinear fc_mu, fc_logvar;

    public ResNetEncoder(ResNetVaeOptions o) : base(nameof(ResNetEncoder))
    {
        int w = o.Width;
        stem_conv = new AutocastConv2d(o.Channels, w, 7, stride: 2, padding: 3, hasBias: false);
        stem_bn = new Fp32BatchNorm2d(w);
        layer1 = Sequential(new BasicBlock(w, w), new BasicBlock(w, w));
        layer2 = Sequential(new BasicBlock(w, 2 * w, 2), new BasicBlock(2 * w, 2 * w));
        layer3 = Sequential(new BasicBlock(2 * w, 4 * w, 2), new BasicBlock(4 * w, 4 * w));
        layer4 = Sequential(new BasicBlock(4 * w, 8 * w, 2), new BasicBlock(8 * w, 8 * w));
        fc_mu = new AutocastLinear(8 * w, o.Latent);
        fc_logvar = new AutocastLinear(8 * w, o.Latent);
        RegisterComponents();
    }

    public override (Tensor Mu, Tensor LogVar) forward(Tensor x)
    {
        using var scope = NewDisposeScope(); // intermediates go when forward returns, not at the end of the step
        var h = functional.relu(stem_bn.forward(stem_conv.forward(x)));
        h = functional.max_pool2d(h, 3, 2, 1);
        h = layer4.forward(layer3.forward(layer2.forward(layer1.forward(h))));
        h = functional.adaptive_avg_pool2d(h, 1).flatten(1);
        // Guard rail: a bounded log-variance keeps exp() finite early in training.
        // The posterior leaves the encoder in fp32 whatever the compute dtype: the KL term and sampling need the precision.
        var mu = fc_mu.forward(h).to_type(ScalarType.Float32);
        var logVar = fc_logvar.forward(h).to_type(ScalarType.Float32).clamp(-30, 20);
        return (mu.MoveToOuterDisposeScope(), logVar.MoveToOuterDisposeScope());
    }
}
