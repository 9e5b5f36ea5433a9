namespace Hypha.Models.AutoencoderKl;

/// <summary>The KL autoencoder's parameters and training activations, layer by layer as <see cref="KlEncoder"/> and
/// <see cref="KlDecoder"/> build them.</summary>
public static class AutoencoderKlMemory
{
    public static ModelMemory Estimate(AutoencoderKlOptions o, int channels, int resolution)
    {
        var t = new MemoryTally();
        double side = resolution, ch = o.Width;
        t.Conv(channels, o.Width, 3, true, side);
        var levels = o.ChannelMult.Length;
        for (var i = 0; i < levels; i++)
        {
            double outCh = (double)o.Width * o.ChannelMult[i];
            for (var j = 0; j < o.ResBlocks; j++, ch = outCh) AeResBlock.Tally(t, ch, outCh, side);
            if (i < levels - 1) t.Conv(ch, ch, 3, true, side /= 2);
        }
        AeResBlock.Tally(t, ch, ch, side);
        AeResBlock.Tally(t, ch, ch, side);
        t.GroupNorm(ch).Activation(ch, side).Activation(ch, side).Conv(ch, 2.0 * o.Latent, 3, true, side);
        t.Activation(3.0 * o.Latent, side); // the reparameterized latent, its noise and exp(logvar / 2)
        t.Conv(o.Latent, ch, 3, true, side);
        AeResBlock.Tally(t, ch, ch, side);
        AeResBlock.Tally(t, ch, ch, side);
        for (var i = levels - 1; i >= 0; i--)
        {
            double outCh = (double)o.Width * o.ChannelMult[i];
            for (var j = 0; j <= o.ResBlocks; j++, ch = outCh) AeResBlock.Tally(t, ch, outCh, side);
            if (i > 0) t.Activation(ch, side *= 2).Conv(ch, ch, 3, true, side);
        }
        t.GroupNorm(ch).Activation(ch, side).Activation(ch, side).Conv(ch, channels, 3, true, side);
        t.Activation(3.0 * channels, side); // sigmoid, loss terms
        return t.Result();
    }

    /// <summary>Float elements alive while the decoder decodes one latent, an estimate: the largest maps of each level,
    /// three at a time (a block's input, its intermediate and its output).</summary>
    public static long DecoderElements(AutoencoderKlOptions o, int channels, int resolution)
    {
        long total = 0;
        for (var i = 0; i < o.ChannelMult.Length; i++)
        {
            long side = resolution >> i;
            total += 3L * o.Width * o.ChannelMult[i] * side * side;
        }
        return total + 2L * channels * resolution * resolution;
    }
}
