using Hypha.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.AutoencoderKl;

/// <summary>
/// The residual block of latent diffusion's autoencoder (ldm.modules.diffusionmodules.model.ResnetBlock without a
/// timestep): h = conv1(SiLU(norm1(x))); h = conv2(SiLU(norm2(h))); returns skip(x) + h, skip a 1x1 convolution when
/// the channel count changes. GroupNorm in fp32 (<see cref="GroupNorm32"/>). Parameters: norm1, conv1, norm2, conv2 and,
/// when in != out, skip.
/// </summary>
public sealed class AeResBlock : Module<Tensor, Tensor>
{
    readonly GroupNorm32 norm1, norm2;
    readonly AutocastConv2d conv1, conv2;
    readonly AutocastConv2d? skip;

    public AeResBlock(long inChannels, long outChannels) : base(nameof(AeResBlock))
    {
        norm1 = new GroupNorm32(inChannels);
        conv1 = new AutocastConv2d(inChannels, outChannels, 3, padding: 1);
        norm2 = new GroupNorm32(outChannels);
        conv2 = new AutocastConv2d(outChannels, outChannels, 3, padding: 1);
        if (inChannels != outChannels) skip = new AutocastConv2d(inChannels, outChannels, 1);
        register_module("norm1", norm1);
        register_module("conv1", conv1);
        register_module("norm2", norm2);
        register_module("conv2", conv2);
        if (skip is not null) register_module("skip", skip);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = conv1.forward(functional.silu(norm1.forward(x)));
        h = conv2.forward(functional.silu(norm2.forward(h)));
        var s = skip is null ? x : skip.forward(x);
        return (s.to_type(h.dtype) + h).MoveToOuterDisposeScope();
    }

    /// <summary>Parameters of a block from <paramref name="inChannels"/> to <paramref name="outChannels"/> (for the memory estimate).</summary>
    public static void Tally(MemoryTally t, double inChannels, double outChannels, double side)
    {
        // Each norm's output is kept by the SiLU after it and each SiLU's output by the convolution after it.
        t.GroupNorm(inChannels).Activation(inChannels, side).Activation(inChannels, side).Conv(inChannels, outChannels, 3, true, side);
        t.GroupNorm(outChannels).Activation(outChannels, side).Activation(outChannels, side).Conv(outChannels, outChannels, 3, true, side);
        if (inChannels != outChannels) t.Conv(inChannels, outChannels, 1, true, side);
        t.Activation(outChannels, side); // the sum
    }
}
