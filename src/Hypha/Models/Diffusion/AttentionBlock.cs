using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Hypha.Models.Layers;

namespace Hypha.Models.Diffusion;

/// <summary>
/// Self-attention over the pixels of a feature map: heads = max(1, ch / 32); qkv = 1x1 conv (ch -> 3ch) whose output
/// channels are ordered q | k | v and, within each, head-major (head h owns channels h*d .. h*d + d - 1, d = ch / heads);
/// scaled dot-product attention per head over the H*W positions; returns x + proj(out) with proj a zero-initialized 1x1
/// conv (a new block is the identity). Parameters: norm, qkv, proj.
/// </summary>
public sealed class AttentionBlock : Module<Tensor, Tensor>
{
    readonly GroupNorm32 norm;
    readonly AutocastConv2d qkv, proj;
    readonly long _channels, _heads;

    public AttentionBlock(long channels) : base(nameof(AttentionBlock))
    {
        _channels = channels;
        _heads = Math.Max(1, channels / 32);
        norm = new GroupNorm32(channels);
        qkv = new AutocastConv2d(channels, 3 * channels, 1);
        proj = new AutocastConv2d(channels, channels, 1);
        UNet.ZeroInit(proj);
        register_module("norm", norm);
        register_module("qkv", qkv);
        register_module("proj", proj);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], h = x.shape[2], w = x.shape[3], d = _channels / _heads;
        var y = UNet.Consume(norm.forward(x), qkv.forward);            // [B, 3ch, H, W]
        y = y.reshape(b, 3, _heads, d, h * w).permute(1, 0, 2, 4, 3); // [3, B, heads, HW, d]
        var q = y[0];
        var k = y[1];
        var v = y[2];
        var o = nn.functional.scaled_dot_product_attention(q, k, v);  // [B, heads, HW, d], scale 1/sqrt(d)
        y.Dispose();
        o = UNet.Consume(o, v => v.permute(0, 1, 3, 2).reshape(b, _channels, h, w));
        o = UNet.Consume(o, proj.forward);
        var result = x.to_type(o.dtype) + o;
        return result.MoveToOuterDisposeScope();
    }
}
