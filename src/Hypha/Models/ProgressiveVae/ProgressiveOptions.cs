namespace Hypha.Models.ProgressiveVae;

/// <summary>
/// Settings of the progressive VAE (thesis section 3.4), kept in <see cref="ProVaeOptions.Progressive"/> and in
/// config.json as <c>progressive</c>. Training starts at <see cref="StartResolution"/> and doubles the resolution
/// every <see cref="EpochsPerStage"/> epochs until it reaches the chunk size.
/// </summary>
public sealed record ProgressiveOptions
{
    /// <summary>Epochs trained at each resolution (one "round" per added block); default 30, as the thesis.</summary>
    public int EpochsPerStage { get; init; } = 30;

    /// <summary>Training images over which a new block's alpha rises linearly from 0 to 1; default 0, which means
    /// half the images of a stage (ProGAN fades for half a stage, then stabilizes).</summary>
    public long FadeImages { get; init; }

    /// <summary>Scale weights at run time by He's constant (equalized learning rate); default true.</summary>
    public bool EqualizedLr { get; init; } = true;

    /// <summary>Pixel normalization (epsilon 1e-8) in place of batch normalization; default true. False uses batch norm.</summary>
    public bool PixelNorm { get; init; } = true;

    /// <summary>Append a minibatch standard deviation channel before the encoder's last block; default false (the
    /// thesis's future work).</summary>
    public bool MinibatchStd { get; init; }

    /// <summary>Weight the reconstruction sum of a stage by (chunk / resolution)^2, so that every stage balances
    /// reconstruction against KL as the last one does; default false (the thesis: the plain pixel sum at every stage,
    /// which at 7x7 weighs 49 pixels against the whole KL and lets the posterior collapse, see docs/provae.md).
    /// The logged reconstruction term stays the plain sum.</summary>
    public bool ScaleReconstruction { get; init; }

    /// <summary>Side of the first stage; default 7 (the ResNet-18 encoder's last feature map at 224). The chunk size must
    /// be this times a power of two, at least twice it.</summary>
    public int StartResolution { get; init; } = 7;

    /// <summary>Number of stages for a chunk side: log2(chunk / start) + 1 (6 for 224 from 7; 4 for 56).</summary>
    public int Stages(int chunk)
    {
        Validate(chunk);
        var stages = 1;
        for (var r = StartResolution; r < chunk; r *= 2) stages++;
        return stages;
    }

    /// <summary>Epochs a run needs to go through every stage: stages x <see cref="EpochsPerStage"/> (180 for 224 at 30).</summary>
    public int TotalEpochs(int chunk) => Stages(chunk) * EpochsPerStage;

    /// <summary>Checks the settings alone.</summary>
    public void Validate()
    {
        if (EpochsPerStage < 1) throw HyphaException.Config($"epochs per stage must be at least 1 (got {EpochsPerStage})");
        if (FadeImages < 0) throw HyphaException.Config($"fade images cannot be negative (got {FadeImages})");
        if (StartResolution < 1) throw HyphaException.Config($"start resolution must be at least 1 (got {StartResolution})");
    }

    /// <summary>Checks the settings and that a chunk side is <see cref="StartResolution"/> x 2^k with k >= 1.</summary>
    public void Validate(int chunk)
    {
        Validate();
        var r = StartResolution;
        while (r < chunk) r *= 2;
        if (r != chunk || chunk < 2 * StartResolution)
            throw HyphaException.Config(
                $"chunk size {chunk} cannot be grown to by the progressive VAE: it needs {StartResolution} x 2^k with k >= 1 " +
                $"(e.g. {StartResolution * 8}, {StartResolution * 16}, {StartResolution * 32})");
    }
}
