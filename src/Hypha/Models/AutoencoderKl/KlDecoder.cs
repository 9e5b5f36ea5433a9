using Hypha.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.AutoencoderKl;

/// <summary>
/// Latent diffusion's decoder (ldm.modules.diffusionmodules.model.Decoder, without attention), the encoder's mirror:
/// the flat latent reshaped to [B, C, s, s], conv_in to the coarsest width, two blocks, then per level from the
/// coarsest <see cref="AutoencoderKlOptions.ResBlocks"/> + 1 <see cref="AeResBlock"/>s and a nearest-neighbour x2
/// upsampling with a 3x3 convolution between levels, and GroupNorm-SiLU-conv_out to the image channels with a sigmoid
/// (Hypha's images are in [0, 1]; latent diffusion's decoder is unbounded on [-1, 1] data).
/// </summary>
public sealed class KlDecoder : Module<Tensor, Tensor>
{
    readonly AutocastConv2d conv_in;
    readonly AeResBlock mid_1, mid_2;
    readonly ModuleList<Module<Tensor, Tensor>> up;
    readonly GroupNorm32 norm_out;
    readonly AutocastConv2d conv_out;
    readonly bool[] _upsampleBefore;
    readonly int _latentChannels, _side;

    public KlDecoder(AutoencoderKlOptions o, int channels, int resolution) : base(nameof(KlDecoder))
    {
        _latentChannels = o.Latent;
        _side = o.LatentSide(resolution);
        var levels = o.ChannelMult.Length;
        long ch = (long)o.Width * o.ChannelMult[^1];
        conv_in = new AutocastConv2d(o.Latent, ch, 3, padding: 1);
        mid_1 = new AeResBlock(ch, ch);
        mid_2 = new AeResBlock(ch, ch);
        var layers = new List<Module<Tensor, Tensor>>();
        var upsample = new List<bool>(); // per layer: double the side before it
        for (var i = levels - 1; i >= 0; i--)
        {
            long outCh = (long)o.Width * o.ChannelMult[i];
            for (var j = 0; j <= o.ResBlocks; j++, ch = outCh)
            {
                layers.Add(new AeResBlock(ch, outCh));
                upsample.Add(false);
            }
            if (i > 0)
            {
                layers.Add(new AutocastConv2d(ch, ch, 3, padding: 1));
                upsample.Add(true);
            }
        }
        up = ModuleList(layers.ToArray());
        _upsampleBefore = upsample.ToArray();
        norm_out = new GroupNorm32(ch);
        conv_out = new AutocastConv2d(ch, channels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.forward(z.reshape(z.shape[0], _latentChannels, _side, _side));
        h = mid_2.forward(mid_1.forward(h));
        for (var i = 0; i < up.Count; i++)
        {
            // An upsampling layer is the convolution after a nearest-neighbour doubling.
            if (_upsampleBefore[i]) h = nn.functional.interpolate(h, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
            h = up[i].forward(h);
        }
        return functional.sigmoid(conv_out.forward(functional.silu(norm_out.forward(h)))).MoveToOuterDisposeScope();
    }
}
