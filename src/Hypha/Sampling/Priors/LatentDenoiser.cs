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

/// <summary>Which network the latent-diffusion prior denoises with.</summary>
public enum LatentDenoiserKind
{
    /// <summary>A U-Net for a latent image, an MLP for a latent vector.</summary>
    Auto,
    /// <summary><see cref="LatentDenoiser"/>: an MLP over the vector.</summary>
    Mlp,
    /// <summary><see cref="ConvLatentDenoiser"/>: the diffusion family's U-Net over the latent image.</summary>
    Unet,
}

/// <summary>
/// The latent-diffusion prior's network for a latent image [C, s, s] (the KL autoencoder's): the diffusion family's
/// <see cref="UNet"/> (residual blocks with GroupNorm and SiLU, a sinusoidal timestep embedding) at side s, multipliers
/// 1,2,2 when s is a multiple of 4 (else 1,2), self-attention at the coarsest side, as latent diffusion denoises its
/// latents with a U-Net. forward(x_t [B, C x s x s], t int64 [B]) reshapes to the image and back and returns [B, L],
/// float32. State dict keys: <c>unet.*</c>.
/// </summary>
public sealed class ConvLatentDenoiser : Module<Tensor, Tensor, Tensor>
{
    readonly UNet unet;
    readonly int _channels, _side;

    /// <summary>Latent size C x s x s in and out.</summary>
    public int LatentSize => _channels * _side * _side;

    /// <summary>The U-Net's shape.</summary>
    public UNetSpec Spec => unet.Spec;

    public ConvLatentDenoiser(IReadOnlyList<int> shape, int width, int blocks) : base(nameof(ConvLatentDenoiser))
    {
        if (shape.Count != 3 || shape[1] != shape[2] || shape[1] < 2 || shape[1] % 2 != 0)
            throw new ArgumentException($"a square latent image of even side, [C, s, s] (got [{string.Join(", ", shape)}])", nameof(shape));
        (_channels, _side) = (shape[0], shape[1]);
        int[] mult = _side % 4 == 0 ? [1, 2, 2] : [1, 2];
        var spec = new UNetSpec(_channels, _side, width, mult, blocks, [_side >> (mult.Length - 1)]);
        spec.Validate();
        unet = new UNet(spec);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor t)
    {
        using var scope = NewDisposeScope();
        var image = x.to_type(ScalarType.Float32).reshape(x.shape[0], _channels, _side, _side);
        return unet.forward(image, t).to_type(ScalarType.Float32).reshape(x.shape[0], -1).MoveToOuterDisposeScope();
    }
}

/// <summary>Builds and describes the latent-diffusion prior's network from its resolved options.</summary>
public static class LatentDenoisers
{
    /// <summary>The network of <paramref name="options"/> (resolved: <see cref="LatentDiffusionOptions.Resolved"/>).</summary>
    public static Module<Tensor, Tensor, Tensor> Create(LatentDiffusionOptions options)
    {
        var shape = options.Shape ?? throw new ArgumentException("options not resolved to a latent shape", nameof(options));
        return options.Denoiser switch
        {
            LatentDenoiserKind.Unet => new ConvLatentDenoiser(shape, options.Width, options.Blocks),
            LatentDenoiserKind.Mlp => new LatentDenoiser(shape.Aggregate(1, (a, b) => a * b), options.Width, options.Blocks),
            _ => throw new ArgumentException("options not resolved to a denoiser", nameof(options)),
        };
    }

    /// <summary>The latent size a network takes.</summary>
    public static int LatentSize(Module<Tensor, Tensor, Tensor> net) => net switch
    {
        LatentDenoiser mlp => mlp.LatentSize,
        ConvLatentDenoiser conv => conv.LatentSize,
        _ => throw new ArgumentException($"not a latent denoiser: {net.GetType().Name}", nameof(net)),
    };

    /// <summary>"MLP denoiser width 256, 3 blocks" or "U-Net denoiser width 32, 2 blocks per level, on 4x16x16 latents".</summary>
    public static string Describe(LatentDiffusionOptions o) => o.Denoiser == LatentDenoiserKind.Unet
        ? $"U-Net denoiser width {o.Width}, {o.Blocks} blocks per level, on {string.Join("x", o.Shape ?? [])} latents"
        : $"MLP denoiser width {o.Width}, {o.Blocks} blocks";
}
