using Hypha.Models.Diffusion;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Sampling.Priors;

/// <summary>
/// The latent-diffusion prior's network: an MLP over latent vectors with a sinusoidal timestep embedding (the U-Net's,
/// <see cref="UNet.TimestepEmbedding"/>) through a two-layer MLP, as the diffusion priors on latents of two-stage VAEs
/// and LSGM use. <c>input</c> maps x_t [B, L] to the width, <see cref="Blocks"/> residual blocks
/// (LayerNorm-SiLU-Linear, plus the block's projection of the time embedding, SiLU-Linear, added back) refine it, and
/// LayerNorm-SiLU-<c>output</c> (zero-initialized, so a new network predicts 0) maps back to L. forward(x_t, t int64 [B])
/// returns [B, L], float32. State dict keys: <c>input.*</c>, <c>time1.*</c>, <c>time2.*</c>, <c>blocks.N.*</c>,
/// <c>norm_out.*</c>, <c>output.*</c>.
/// </summary>
public sealed class LatentDenoiser : Module<Tensor, Tensor, Tensor>
{
    // Declared in forward order: RegisterComponents registers fields in declaration order, which is the state dict's.
    readonly Linear input;
    readonly Linear time1, time2;
    readonly ModuleList<ResidualBlock> blocks;
    readonly LayerNorm norm_out;
    readonly Linear output;
    readonly int _width;

    /// <summary>Latent size L in and out.</summary>
    public int LatentSize { get; }

    /// <summary>Width of the hidden layers.</summary>
    public int Width => _width;

    /// <summary>Residual blocks.</summary>
    public int Blocks { get; }

    public LatentDenoiser(int latentSize, int width, int blockCount) : base(nameof(LatentDenoiser))
    {
        if (latentSize < 1) throw new ArgumentOutOfRangeException(nameof(latentSize), latentSize, "at least 1");
        if (width < 2 || width % 2 != 0) throw new ArgumentOutOfRangeException(nameof(width), width, "an even number of at least 2");
        if (blockCount < 1) throw new ArgumentOutOfRangeException(nameof(blockCount), blockCount, "at least 1");
        (LatentSize, _width, Blocks) = (latentSize, width, blockCount);
        input = Linear(latentSize, width);
        time1 = Linear(width, width);
        time2 = Linear(width, width);
        blocks = ModuleList(Enumerable.Range(0, blockCount).Select(_ => new ResidualBlock(width)).ToArray());
        norm_out = LayerNorm(width);
        output = Linear(width, latentSize);
        using (no_grad())
        {
            output.weight!.zero_();
            output.bias!.zero_();
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor t)
    {
        using var scope = NewDisposeScope();
        var temb = time2.forward(functional.silu(time1.forward(UNet.TimestepEmbedding(t, _width))));
        var h = input.forward(x.to_type(ScalarType.Float32));
        foreach (var block in blocks) h = block.Forward(h, temb);
        return output.forward(functional.silu(norm_out.forward(h))).MoveToOuterDisposeScope();
    }

    /// <summary>h + fc2(SiLU(fc1(SiLU(LayerNorm(h))) + time(SiLU(temb)))).</summary>
    public sealed class ResidualBlock : Module
    {
        readonly LayerNorm norm;
        readonly Linear fc1, time, fc2;

        public ResidualBlock(int width) : base(nameof(ResidualBlock))
        {
            norm = LayerNorm(width);
            fc1 = Linear(width, width);
            time = Linear(width, width);
            fc2 = Linear(width, width);
            RegisterComponents();
        }

        public Tensor Forward(Tensor h, Tensor temb)
        {
            using var scope = NewDisposeScope();
            var a = fc1.forward(functional.silu(norm.forward(h))) + time.forward(functional.silu(temb));
            return (h + fc2.forward(functional.silu(a))).MoveToOuterDisposeScope();
        }
    }
}
