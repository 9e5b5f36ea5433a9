namespace Hypha.Models.ResNetVae;

/// <summary>The ResNet-18 VAE's parameters and training activations, layer by layer as <see cref="ResNetEncoder"/> and
/// <see cref="ResNetDecoder"/> build them.</summary>
public static class ResNetVaeMemory
{
    public static ModelMemory Estimate(int channels, int resolution, int width, int latent)
    {
        double w = width, r = resolution;
        var t = new MemoryTally();
        t.Conv(channels, w, 7, false, r / 2).BatchNorm(w).Activation(w, r / 2).Activation(w, r / 4); // stem, max pool
        double side = r / 4, ch = w;
        for (var stage = 0; stage < 4; stage++)
        {
            var output = w * (1 << stage);
            if (stage > 0) side /= 2;
            Basic(t, ch, output, stage > 0, side);
            Basic(t, output, output, false, side);
            ch = output;
        }
        t.Activation(8 * w, 1).Linear(8 * w, latent).Linear(8 * w, latent); // pool, mu, log-variance
        // Decoder: linear to 8w x (R/32)^2, then four stages of up blocks.
        double s = r / 32;
        t.Linear(latent, 8 * w * s * s).Activation(8 * w, s);
        double[] outs = [4 * w, 2 * w, w, w];
        ch = 8 * w;
        for (var stage = 0; stage < 4; stage++)
        {
            Up(t, ch, ch, false, s);
            var up = stage < 3;
            if (up) s *= 2;
            Up(t, ch, outs[stage], up, s);
            ch = outs[stage];
        }
        t.Conv(w, w, 2, false, 2 * s).BatchNorm(w).Activation(w, 2 * s);                    // un-pool
        t.Conv(w, channels, 7, true, r).Activation(channels, r).Activation(3 * channels, r); // head, sigmoid, loss terms
        return t.Result();
    }

    /// <summary>torchvision's BasicBlock at output side <paramref name="side"/>.</summary>
    static void Basic(MemoryTally t, double inCh, double outCh, bool down, double side)
    {
        t.Conv(inCh, outCh, 3, false, side).BatchNorm(outCh).Activation(outCh, side);
        t.Conv(outCh, outCh, 3, false, side).BatchNorm(outCh);
        if (down || inCh != outCh) t.Conv(inCh, outCh, 1, false, side).BatchNorm(outCh);
        t.Activation(outCh, side); // ReLU of the sum (the sum is made in place)
    }

    /// <summary><see cref="Layers.UpBlock"/> at output side <paramref name="side"/> (its input is half that when it upsamples).</summary>
    static void Up(MemoryTally t, double inCh, double outCh, bool up, double side)
    {
        var inSide = up ? side / 2 : side;
        t.Conv(inCh, inCh, 3, false, inSide).BatchNorm(inCh).Activation(inCh, inSide);
        t.Conv(inCh, outCh, 3, false, side).BatchNorm(outCh);
        if (up || inCh != outCh) t.Conv(inCh, outCh, up ? 2 : 1, false, side).BatchNorm(outCh);
        t.Activation(outCh, side);
    }
}
