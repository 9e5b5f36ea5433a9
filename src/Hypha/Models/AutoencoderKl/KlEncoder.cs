using Hypha.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.AutoencoderKl;

/// <summary>
/// Latent diffusion's encoder (ldm.modules.diffusionmodules.model.Encoder, without attention): conv_in to the width,
/// per level <see cref="AutoencoderKlOptions.ResBlocks"/> <see cref="AeResBlock"/>s to width x multiplier and a 3x3
/// stride-2 convolution between levels, two blocks at the coarsest side, then GroupNorm-SiLU-conv_out to twice the
/// latent channels: the posterior's mean and log-variance at every latent position, returned flattened to [B, C x s x s]
/// (channel-major, as <c>reshape</c> lays out [B, C, s, s]).
/// </summary>
public sealed class KlEncoder : Module<Tensor, (Tensor Mu, Tensor LogVar)>
{
    readonly AutocastConv2d conv_in;
    readonly ModuleList<Module<Tensor, Tensor>> down;
    readonly AeResBlock mid_1, mid_2;
    readonly GroupNorm32 norm_out;
    readonly AutocastConv2d conv_out;

    public KlEncoder(AutoencoderKlOptions o, int channels) : base(nameof(KlEncoder))
    {
        conv_in = new AutocastConv2d(channels, o.Width, 3, padding: 1);
        var layers = new List<Module<Tensor, Tensor>>();
        long ch = o.Width;
        for (var i = 0; i < o.ChannelMult.Length; i++)
        {
            long outCh = (long)o.Width * o.ChannelMult[i];
            for (var j = 0; j < o.ResBlocks; j++, ch = outCh) layers.Add(new AeResBlock(ch, outCh));
            if (i < o.ChannelMult.Length - 1) layers.Add(new AutocastConv2d(ch, ch, 3, stride: 2, padding: 1));
        }
        down = ModuleList(layers.ToArray());
        mid_1 = new AeResBlock(ch, ch);
        mid_2 = new AeResBlock(ch, ch);
        norm_out = new GroupNorm32(ch);
        conv_out = new AutocastConv2d(ch, 2L * o.Latent, 3, padding: 1);
        RegisterComponents();
    }

    public override (Tensor Mu, Tensor LogVar) forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.forward(x);
        foreach (var layer in down) h = layer.forward(h);
        h = mid_2.forward(mid_1.forward(h));
        var moments = conv_out.forward(functional.silu(norm_out.forward(h))).to_type(ScalarType.Float32);
        var parts = moments.chunk(2, 1);
        // As the ResNet encoder: fp32 posterior, a bounded log-variance keeps exp() finite early in training.
        var mu = parts[0].reshape(x.shape[0], -1);
        var logVar = parts[1].reshape(x.shape[0], -1).clamp(-30, 20);
        return (mu.MoveToOuterDisposeScope(), logVar.MoveToOuterDisposeScope());
    }
}
