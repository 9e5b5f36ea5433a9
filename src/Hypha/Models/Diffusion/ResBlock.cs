using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Hypha.Models.Layers;

namespace Hypha.Models.Diffusion;

/// <summary>
/// The DDPM residual block: h = conv1(SiLU(norm1(x))); h += temb_proj(SiLU(temb))[:, :, None, None];
/// h = conv2(dropout(SiLU(norm2(h)))); returns skip(x) + h. conv2 starts at zero, so a new block is the identity
/// (or its 1x1 skip). Parameters: norm1, conv1, temb_proj, norm2, conv2 and, when in != out, skip.
/// </summary>
public sealed class ResBlock : Module<Tensor, Tensor, Tensor>
{
    readonly GroupNorm32 norm1, norm2;
    readonly AutocastConv2d conv1, conv2;
    readonly AutocastLinear temb_proj;
    readonly Module<Tensor, Tensor> dropout;
    readonly AutocastConv2d? skip;

    public ResBlock(long inChannels, long outChannels, long tembDim, double dropoutRate) : base(nameof(ResBlock))
    {
        norm1 = new GroupNorm32(inChannels);
        conv1 = new AutocastConv2d(inChannels, outChannels, 3, padding: 1);
        temb_proj = new AutocastLinear(tembDim, outChannels);
        norm2 = new GroupNorm32(outChannels);
        dropout = nn.Dropout(dropoutRate);
        conv2 = new AutocastConv2d(outChannels, outChannels, 3, padding: 1);
        UNet.ZeroInit(conv2);
        if (inChannels != outChannels) skip = new AutocastConv2d(inChannels, outChannels, 1);
        register_module("norm1", norm1);
        register_module("conv1", conv1);
        register_module("temb_proj", temb_proj);
        register_module("norm2", norm2);
        register_module("conv2", conv2);
        register_module("dropout", dropout);
        if (skip is not null) register_module("skip", skip);
    }

    public override Tensor forward(Tensor x, Tensor temb)
    {
        // Intermediates are disposed as soon as they are consumed (UNet.Consume), not at the end of the block.
        using var scope = NewDisposeScope();
        var h = UNet.Consume(UNet.Consume(norm1.forward(x), v => nn.functional.silu(v)), conv1.forward);
        using (var t = UNet.Consume(nn.functional.silu(temb), temb_proj.forward))
        using (var column = t.to_type(h.dtype).unsqueeze(-1).unsqueeze(-1))
            h = UNet.Consume(h, v => v + column);
        h = UNet.Consume(h, norm2.forward);
        h = UNet.Consume(h, v => nn.functional.silu(v));
        h = UNet.Consume(h, dropout.forward);
        h = UNet.Consume(h, conv2.forward);
        var s = skip is null ? x : skip.forward(x);
        var result = s.to_type(h.dtype) + h;
        h.Dispose();
        if (skip is not null) s.Dispose();
        return result.MoveToOuterDisposeScope();
    }
}
