namespace Hypha.Models.ProgressiveVae;

/// <summary>The progressive VAE's parameters (every stage's blocks exist from the start) and the activations of its
/// last, largest stage, as <see cref="ProgressiveEncoder"/> and <see cref="ProgressiveDecoder"/> build them.</summary>
public static class ProgressiveVaeMemory
{
    public static ModelMemory Estimate(ProgressiveVaeOptions o)
    {
        var p = o.Progressive;
        bool bias = p.PixelNorm; // convolutions of the blocks have a bias only under pixel norm
        var t = new MemoryTally().Buffer(2 * sizeof(double)); // the stage and alpha
        int stages = o.Stages;
        void Norm(double ch, double side)
        {
            if (p.PixelNorm) t.Activation(ch, side); // pixel norm keeps its input's scale
            else t.BatchNorm(ch);
        }
        // Everything at the block's output side: the encoder's block strides, the decoder's resizes its input first.
        void Block(double inCh, double outCh, bool resize, bool encoder, double side)
        {
            if (!encoder && resize) t.Activation(inCh, side);
            t.Conv(inCh, outCh, 3, bias, side); Norm(outCh, side); t.Activation(outCh, side);
            t.Conv(outCh, outCh, 3, bias, side); Norm(outCh, side);
            if ((encoder && resize) || inCh != outCh) { t.Conv(inCh, outCh, 1, bias, side); Norm(outCh, side); }
            t.Activation(outCh, side); // ReLU of the sum
        }
        // Encoder: from_rgb per stage, blocks from the last stage down to 0 (only the last stage's from_rgb runs at full size).
        for (var s = 0; s < stages; s++) t.Conv(o.Channels, o.ChannelsAt(s), 1, true, s == stages - 1 ? o.ResolutionAt(s) : 0);
        t.Activation(o.ChannelsAt(stages - 1), o.ResolutionAt(stages - 1));
        for (var s = stages - 1; s >= 1; s--) Block(o.ChannelsAt(s), o.ChannelsAt(s - 1), true, true, o.ResolutionAt(s - 1));
        var first = o.ChannelsAt(0) + (p.MinibatchStd ? 1 : 0);
        if (p.MinibatchStd) t.Activation(first, o.ResolutionAt(0));
        Block(first, o.ChannelsAt(0), false, true, o.ResolutionAt(0));
        t.Activation(o.ChannelsAt(0), 1).Linear(o.ChannelsAt(0), o.Latent).Linear(o.ChannelsAt(0), o.Latent);
        // Decoder: linear to the first stage's map, blocks 0 .. last, to_rgb per stage.
        double side0 = o.ResolutionAt(0);
        t.Linear(o.Latent, o.ChannelsAt(0) * side0 * side0).Activation(o.ChannelsAt(0), side0);
        Block(o.ChannelsAt(0), o.ChannelsAt(0), false, false, side0);
        for (var s = 1; s < stages; s++) Block(o.ChannelsAt(s - 1), o.ChannelsAt(s), true, false, o.ResolutionAt(s));
        for (var s = 0; s < stages; s++) t.Conv(o.ChannelsAt(s), o.Channels, 1, true, s == stages - 1 ? o.ResolutionAt(s) : 0);
        t.Activation(4 * o.Channels, o.Resolution); // sigmoid, loss terms
        return t.Result();
    }
}
