namespace Hypha.Models.Diffusion;

/// <summary>The shape of a <see cref="UNet"/>: image channels and side, base width, channel multipliers per level,
/// residual blocks per level, resolutions with self-attention and the dropout rate.</summary>
public sealed record UNetSpec(int Channels, int Resolution, int Width, IReadOnlyList<int> Mult, int ResBlocks,
    IReadOnlyList<int> AttentionResolutions, double Dropout = 0)
{
    /// <summary>Levels (one per multiplier).</summary>
    public int Levels => Mult.Count;

    /// <summary>Sides the U-Net takes: multiples of 2^(levels-1), at least that.</summary>
    public int SizeStep => 1 << (Levels - 1);

    /// <summary>Channels at level <paramref name="i"/>.</summary>
    public int ChannelsAt(int i) => Width * Mult[i];

    /// <summary>
    /// Tensor elements alive at the peak of one image's forward pass without gradients, an estimate that follows
    /// <see cref="UNet.forward"/>: every tensor made at the U-Net's level (conv_in, each block's output, the skips'
    /// concatenations, up-sampling) lives until the pass ends, plus the largest block's temporaries on top (a
    /// residual block about 2 inputs and 6 outputs; self-attention about 10 feature maps and 2 attention matrices of
    /// heads x (HW)^2). Multiply by the bytes of an element, and by the batch.
    /// </summary>
    public long InferenceElements()
    {
        var attention = AttentionResolutions.ToHashSet();
        long held = (long)Width * Resolution * Resolution * 3 + (long)Channels * Resolution * Resolution; // conv_in, norm_out, SiLU; conv_out
        long peak = 0;
        void Block(long inCh, long outCh, long side) => peak = Math.Max(peak, (2 * inCh + 6 * outCh) * side * side);
        void Attention(long ch, long side)
        {
            var heads = Math.Max(1, ch / 32);
            peak = Math.Max(peak, 10 * ch * side * side + 2 * heads * side * side * side * side);
        }
        var skips = new Stack<long>();
        skips.Push(Width);
        long c = Width;
        for (var i = 0; i < Levels; i++)
        {
            long side = Resolution >> i, outCh = ChannelsAt(i);
            for (var j = 0; j < ResBlocks; j++)
            {
                Block(j == 0 ? c : outCh, outCh, side);
                held += outCh * side * side;
                if (attention.Contains((int)side)) { Attention(outCh, side); held += outCh * side * side; }
                skips.Push(outCh);
            }
            if (i < Levels - 1) { held += outCh * (side / 2) * (side / 2); skips.Push(outCh); }
            c = outCh;
        }
        long last = Resolution >> (Levels - 1);
        Block(c, c, last);
        Attention(c, last);
        held += 3 * c * last * last;
        for (var i = Levels - 1; i >= 0; i--)
        {
            long side = Resolution >> i, outCh = ChannelsAt(i);
            for (var j = 0; j <= ResBlocks; j++)
            {
                var inCh = c + skips.Pop();
                Block(inCh, outCh, side);
                held += (inCh + outCh) * side * side; // the concatenation and the block's output
                if (attention.Contains((int)side)) { Attention(outCh, side); held += outCh * side * side; }
                c = outCh;
            }
            if (i > 0) held += 2 * outCh * 4 * side * side; // nearest up-sampling and its convolution
        }
        return held + peak;
    }

    /// <summary>Throws a configuration error when the U-Net cannot be built or cannot take the image side.</summary>
    public void Validate()
    {
        if (Channels < 1) throw HyphaException.Config($"image channels must be at least 1 (got {Channels})");
        if (Width < 2 || Width % 2 != 0) throw HyphaException.Config($"diffusion width must be even and at least 2 (got {Width}): the timestep embedding has width/2 frequencies");
        if (Mult.Count < 1) throw HyphaException.Config("channel multipliers cannot be empty");
        if (Mult.Any(m => m < 1)) throw HyphaException.Config($"channel multipliers must be at least 1 (got {string.Join(",", Mult)})");
        if (ResBlocks < 1) throw HyphaException.Config($"res blocks per level must be at least 1 (got {ResBlocks})");
        if (!(Dropout >= 0 && Dropout < 1)) throw HyphaException.Config($"dropout must be in [0, 1) (got {Dropout})");
        if (Levels > 12) throw HyphaException.Config($"at most 12 U-Net levels (got {Levels})");
        var step = SizeStep;
        if (Resolution < step || Resolution % step != 0)
        {
            var examples = string.Join(", ", Enumerable.Range(1, 4).Select(k => k * step));
            throw HyphaException.Config(
                $"the diffusion U-Net with {Levels} levels (channel multipliers {string.Join(",", Mult)}) needs a chunk size that is a multiple of {step} " +
                $"(2^{Levels - 1}, one halving per level after the first), at least {step}: {examples}, ...; got {Resolution}");
        }
    }
}
