using Hypha.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.ProgressiveVae;

/// <summary>
/// The progressive encoder. <c>from_rgb.s</c> (1x1 convolution and ReLU: ProGAN's fromRGB, the thesis's "increased
/// depth") takes images of stage s to its feature depth; <c>blocks.s</c> (s >= 1) halves the resolution of stage s
/// into stage s - 1's depth; <c>blocks.0</c> is the block trained from the start at 7x7 (after an optional minibatch
/// standard deviation channel), followed by global average pooling and the heads <c>fc_mu</c>, <c>fc_logvar</c>.
/// Every block exists from construction on; the stage decides which run. During a fade the new block's path is mixed
/// with the old one, fed with the input area-halved: <c>alpha x new + (1 - alpha) x old</c>.
/// </summary>
public sealed class ProgressiveEncoder : Module<Tensor, (Tensor Mu, Tensor LogVar)>
{
    readonly ModuleList<Module<Tensor, Tensor>> from_rgb, blocks;
    readonly MinibatchStdDev? minibatch_std;
    readonly EqualizedLinear fc_mu, fc_logvar;

    /// <summary>Stage and alpha the next forward pass uses (set by <see cref="ProgressiveVae"/>).</summary>
    internal (int Stage, double Alpha) Position { get; set; }

    public ProgressiveEncoder(ProgressiveVaeOptions o) : base(nameof(ProgressiveEncoder))
    {
        var p = o.Progressive;
        from_rgb = new ModuleList<Module<Tensor, Tensor>>();
        blocks = new ModuleList<Module<Tensor, Tensor>>();
        for (var s = 0; s < o.Stages; s++)
        {
            from_rgb.Add(new EqualizedConv2d(o.Channels, o.ChannelsAt(s), 1, equalized: p.EqualizedLr));
            blocks.Add(s == 0
                ? new ProEncoderBlock(o.ChannelsAt(0) + (p.MinibatchStd ? 1 : 0), o.ChannelsAt(0), down: false, p.EqualizedLr, p.PixelNorm)
                : new ProEncoderBlock(o.ChannelsAt(s), o.ChannelsAt(s - 1), down: true, p.EqualizedLr, p.PixelNorm));
        }
        if (p.MinibatchStd) minibatch_std = new MinibatchStdDev();
        fc_mu = new EqualizedLinear(o.ChannelsAt(0), o.Latent, p.EqualizedLr, gain: 1);
        fc_logvar = new EqualizedLinear(o.ChannelsAt(0), o.Latent, p.EqualizedLr, gain: 1);
        RegisterComponents();
    }

    public override (Tensor Mu, Tensor LogVar) forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (stage, alpha) = Position;
        Tensor h;
        if (stage == 0) h = functional.relu(from_rgb[0].forward(x));
        else
        {
            Tensor? fresh = alpha > 0 ? blocks[stage].forward(functional.relu(from_rgb[stage].forward(x))) : null;
            Tensor? old = alpha < 1 ? functional.relu(from_rgb[stage - 1].forward(functional.avg_pool2d(x, 2))) : null;
            h = old is null ? fresh! : fresh is null ? old : alpha * fresh + (1 - alpha) * old;
            for (var s = stage - 1; s >= 1; s--) h = blocks[s].forward(h);
        }
        if (minibatch_std is not null) h = minibatch_std.forward(h);
        h = blocks[0].forward(h);
        h = functional.adaptive_avg_pool2d(h, 1).flatten(1);
        // Guard rail, as the ResNet-18 VAE: a bounded log-variance keeps exp() finite early in training.
        return (fc_mu.forward(h).MoveToOuterDisposeScope(), fc_logvar.forward(h).clamp(-30, 20).MoveToOuterDisposeScope());
    }
}
