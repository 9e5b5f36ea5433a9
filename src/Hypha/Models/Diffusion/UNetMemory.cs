namespace Hypha.Models.Diffusion;

/// <summary>The diffusion model's parameters (the U-Net, and its EMA copy as frozen state) and training activations,
/// block by block as <see cref="UNet"/> builds them, attention weights included.</summary>
public static class UNetMemory
{
    public static ModelMemory Estimate(UNetSpec spec)
    {
        var t = new MemoryTally();
        double temb = 4.0 * spec.Width, r = spec.Resolution;
        var attn = spec.AttentionResolutions.ToHashSet();
        t.Conv(spec.Channels, spec.Width, 3, true, r);
        t.Linear(spec.Width, temb).Linear(temb, temb);
        var skips = new Stack<double>();
        skips.Push(spec.Width);
        double ch = spec.Width;
        for (var i = 0; i < spec.Levels; i++)
        {
            double side = spec.Resolution >> i, outCh = spec.ChannelsAt(i);
            for (var j = 0; j < spec.ResBlocks; j++)
            {
                Res(t, j == 0 ? ch : outCh, outCh, temb, side);
                if (attn.Contains(spec.Resolution >> i)) Attention(t, outCh, side);
                skips.Push(outCh);
            }
            if (i < spec.Levels - 1)
            {
                t.Conv(outCh, outCh, 3, true, side / 2);
                skips.Push(outCh);
            }
            ch = outCh;
        }
        double coarsest = spec.Resolution >> (spec.Levels - 1);
        Res(t, ch, ch, temb, coarsest);
        Attention(t, ch, coarsest);
        Res(t, ch, ch, temb, coarsest);
        for (var i = spec.Levels - 1; i >= 0; i--)
        {
            double side = spec.Resolution >> i, outCh = spec.ChannelsAt(i);
            for (var j = 0; j <= spec.ResBlocks; j++)
            {
                var input = ch + skips.Pop();
                t.Activation(input, side); // the concatenation with the skip
                Res(t, input, outCh, temb, side);
                if (attn.Contains(spec.Resolution >> i)) Attention(t, outCh, side);
                ch = outCh;
            }
            if (i > 0) t.Activation(outCh, 2 * side).Conv(outCh, outCh, 3, true, 2 * side);
        }
        t.GroupNorm(ch).Activation(ch, r).Activation(ch, r).Conv(ch, spec.Channels, 3, true, r); // norm (kept by SiLU), SiLU
        t.Activation(4 * spec.Channels, r); // noisy input, target, loss terms
        return t.FrozenCopy().Result();
    }

    static void Res(MemoryTally t, double inCh, double outCh, double temb, double side)
    {
        // Each norm's output is kept by the SiLU after it, each SiLU's by the convolution; conv1's output stands for its sum
        // with the timestep projection, conv2's for the block's sum with the skip.
        t.GroupNorm(inCh).Activation(inCh, side).Activation(inCh, side).Conv(inCh, outCh, 3, true, side);
        t.Linear(temb, outCh);
        t.GroupNorm(outCh).Activation(outCh, side).Activation(outCh, side).Conv(outCh, outCh, 3, true, side);
        if (inCh != outCh) t.Conv(inCh, outCh, 1, true, side);
    }

    static void Attention(MemoryTally t, double ch, double side)
    {
        var heads = Math.Max(1, Math.Floor(ch / 32));
        t.GroupNorm(ch).Activation(ch, side).Conv(ch, 3 * ch, 1, true, side); // the norm's output, kept by qkv; q, k, v
        t.Elements(heads * side * side * side * side); // attention weights, (H W)^2 per head
        t.Activation(ch, side).Conv(ch, ch, 1, true, side); // the attention's output, kept by proj; proj's output stands for the sum
    }
}
