using Hypha.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hypha.Models.Adversarial;

/// <summary>
/// A PatchGAN discriminator (pix2pix's NLayerDiscriminator, as VQGAN and latent diffusion use it): a convolution
/// 4x4 stride 2 to <c>width</c> channels and LeakyReLU 0.2, then <c>layers - 1</c> more 4x4 stride-2 convolutions
/// doubling the channels (at most 8 x width) with GroupNorm and LeakyReLU, one 4x4 stride-1 convolution, GroupNorm
/// and LeakyReLU, and a 4x4 stride-1 convolution to one logit per patch. All convolutions pad 1. GroupNorm
/// (<see cref="GroupNorm32"/>, fp32 statistics) stands where pix2pix has batch norm: it does not depend on the batch,
/// so the real and the reconstructed batch are judged alike and validation of a checkpoint is deterministic.
/// Weights are initialized N(0, 0.02), norm scales N(1, 0.02), as pix2pix. Parameter names:
/// <c>net.0.weight</c>, <c>net.0.bias</c>, ... (a <c>Sequential</c>).
/// </summary>
public sealed class PatchDiscriminator : nn.Module<Tensor, Tensor>
{
    readonly Sequential net;

    public PatchDiscriminator(int channels, int width, int layers) : base(nameof(PatchDiscriminator))
    {
        if (width < 1 || layers < 1) throw new ArgumentOutOfRangeException(nameof(width), "width and layers must be at least 1");
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        void Add(nn.Module<Tensor, Tensor> m) => modules.Add(($"{modules.Count}", m));
        Add(new AutocastConv2d(channels, width, 4, stride: 2, padding: 1));
        Add(nn.LeakyReLU(0.2));
        var c = width;
        for (var n = 1; n <= layers; n++)
        {
            var next = width * Math.Min(1 << n, 8);
            // The last of these keeps the side (stride 1), as pix2pix's.
            Add(new AutocastConv2d(c, next, 4, stride: n < layers ? 2 : 1, padding: 1, hasBias: false));
            Add(new GroupNorm32(next));
            Add(nn.LeakyReLU(0.2));
            c = next;
        }
        Add(new AutocastConv2d(c, 1, 4, stride: 1, padding: 1));
        net = nn.Sequential(modules);
        RegisterComponents();
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith(".bias", StringComparison.Ordinal)) nn.init.zeros_(p);
            else if (p.dim() == 1) nn.init.normal_(p, 1.0, 0.02); // norm scales
            else nn.init.normal_(p, 0.0, 0.02);
        }
    }

    /// <summary>Logits [B, 1, h, w] in float32 for images [B, C, S, S] in [0, 1] (mapped to [-1, 1] first).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return net.forward(x.to_type(ScalarType.Float32) * 2 - 1).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Side of the logit map for inputs of side <paramref name="side"/>: halved (floor) by each of the
    /// <paramref name="layers"/> stride-2 convolutions, then 1 less for each of the two stride-1 ones.</summary>
    public static int OutputSide(int side, int layers)
    {
        for (var n = 0; n < layers; n++) side = (side + 2 - 4) / 2 + 1;
        return side - 2;
    }

    /// <summary>The smallest input side that gives at least one logit.</summary>
    public static int MinimumSide(int layers)
    {
        var side = 1;
        while (OutputSide(side, layers) < 1) side++;
        return side;
    }
}
