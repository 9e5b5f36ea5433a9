using Hypha.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.ProgressiveVae;

/// <summary>
/// The progressive decoder, the encoder's mirror. <c>fc</c> maps the latent to 8w x 7 x 7 and a ReLU (no pixel norm
/// here: the scale of the latent carries information, and a near-zero input such as a posterior mean at the prior's
/// centre would be blown up to unit length); <c>blocks.0</c> works at 7x7 and is trained from the start; <c>blocks.s</c> (s >= 1) doubles the
/// resolution into stage s's depth; <c>to_rgb.s</c> (1x1 convolution and sigmoid: ProGAN's toRGB, the thesis's "to
/// depth 1") turns stage s's features into an image. During a fade the image of the new block is mixed with the
/// previous stage's image upsampled by nearest neighbour: <c>alpha x new + (1 - alpha) x old</c>, so at alpha 0 the
/// output is exactly the previous stage's output, resized.
/// </summary>
public sealed class ProgressiveDecoder : Module<Tensor, Tensor>
{
    readonly EqualizedLinear fc;
    readonly ModuleList<Module<Tensor, Tensor>> blocks, to_rgb;
    readonly int _depth0, _side0;

    /// <summary>Stage and alpha the next forward pass uses (set by <see cref="ProgressiveVae"/>).</summary>
    internal (int Stage, double Alpha) Position { get; set; }

    public ProgressiveDecoder(ProgressiveVaeOptions o) : base(nameof(ProgressiveDecoder))
    {
        var p = o.Progressive;
        _depth0 = o.ChannelsAt(0);
        _side0 = o.ResolutionAt(0);
        fc = new EqualizedLinear(o.Latent, _depth0 * _side0 * _side0, p.EqualizedLr);
        blocks = new ModuleList<Module<Tensor, Tensor>>();
        to_rgb = new ModuleList<Module<Tensor, Tensor>>();
        for (var s = 0; s < o.Stages; s++)
        {
            blocks.Add(s == 0
                ? new ProDecoderBlock(_depth0, _depth0, up: false, p.EqualizedLr, p.PixelNorm)
                : new ProDecoderBlock(o.ChannelsAt(s - 1), o.ChannelsAt(s), up: true, p.EqualizedLr, p.PixelNorm));
            to_rgb.Add(new EqualizedConv2d(o.ChannelsAt(s), o.Channels, 1, equalized: p.EqualizedLr, gain: 1));
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var (stage, alpha) = Position;
        var h = functional.relu(fc.forward(z)).view(-1, _depth0, _side0, _side0);
        h = blocks[0].forward(h);
        for (var s = 1; s < stage; s++) h = blocks[s].forward(h);
        if (stage == 0) return functional.sigmoid(to_rgb[0].forward(h)).MoveToOuterDisposeScope();
        Tensor? fresh = alpha > 0 ? functional.sigmoid(to_rgb[stage].forward(blocks[stage].forward(h))) : null;
        Tensor? old = alpha < 1
            ? functional.interpolate(functional.sigmoid(to_rgb[stage - 1].forward(h)), scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest)
            : null;
        var y = old is null ? fresh! : fresh is null ? old : alpha * fresh + (1 - alpha) * old;
        return y.MoveToOuterDisposeScope();
    }
}
