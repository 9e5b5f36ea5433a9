namespace Hypha.Models.Diffusion;

/// <summary>Settings of the denoising diffusion family (<c>diffusion</c>): the U-Net's shape, the noise schedule,
/// what the network predicts, the EMA decay and the default sampler. Value equality compares the arrays' elements,
/// so a config read back from JSON equals the one written.</summary>
public sealed record DiffusionOptions : ModelOptions
{
    /// <summary>Base channels of the U-Net (level i has width x channel_mult[i]); even. Default 16 (about 1.1 M
    /// parameters at 64x64 gray with the other defaults: trainable on 2 CPU cores).</summary>
    public int Width { get; init; } = 16;

    /// <summary>Channel multiplier per level; the chunk size must be a multiple of 2^(levels-1). Default 1, 2, 2, 4
    /// (DDPM's CIFAR-10 shape).</summary>
    public int[] ChannelMult { get; init; } = [1, 2, 2, 4];

    /// <summary>Residual blocks per level on the down path (the up path has one more). Default 2.</summary>
    public int ResBlocks { get; init; } = 2;

    /// <summary>Feature-map sides that get self-attention after each residual block (the middle block always has
    /// it). Default 8 (only the coarsest level of a 64x64 chunk: attention costs (H W)^2).</summary>
    public int[] AttentionResolutions { get; init; } = [8];

    /// <summary>Dropout inside residual blocks. Default 0 (DDPM used 0.1 on CIFAR-10 over 800 k steps; a CPU run of a
    /// few thousand steps underfits rather than overfits).</summary>
    public double Dropout { get; init; }

    /// <summary>Diffusion steps T. Default 1000.</summary>
    public int Timesteps { get; init; } = 1000;

    /// <summary>Noise schedule. Default cosine (Nichol and Dhariwal 2021: spends fewer steps near pure noise than
    /// linear at small image sizes).</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;

    /// <summary>What the network predicts. Default v (Salimans and Ho 2022): with a cosine schedule the epsilon
    /// parameterization's x0 estimate (x_t - sqrt(1 - ab) eps) / sqrt(ab) is ill-conditioned at high noise where
    /// sqrt(ab) goes to 0; v stays well scaled at every t, which few-step DDIM needs.</summary>
    public PredictionKind Prediction { get; init; } = PredictionKind.V;

    /// <summary>Decay of the EMA weights used for sampling, with warm-up min(decay, (1 + n) / (10 + n)). Default 0.999:
    /// an averaging window of about 1,000 steps suits CPU-length runs of a few thousand steps (0.9999, usual on GPUs,
    /// would still be dominated by early weights at the end of such a run).</summary>
    public double EmaDecay { get; init; } = 0.999;

    /// <summary>Denoising steps when sampling. Default 50.</summary>
    public int SampleSteps { get; init; } = 50;

    /// <summary>Default sampler: <c>ddim</c> (default) or <c>ddpm</c>.</summary>
    public string Sampler { get; init; } = "ddim";

    /// <summary>DDIM's eta: 0 (default) deterministic, 1 as noisy as DDPM.</summary>
    public double Eta { get; init; }

    /// <summary>The samplers this family has.</summary>
    public static IReadOnlyList<string> Samplers { get; } = ["ddim", "ddpm"];

    public override void Validate()
    {
        if (Width < 2 || Width % 2 != 0) throw HyphaException.Config($"diffusion width must be even and at least 2 (got {Width})");
        if (ChannelMult is null || ChannelMult.Length == 0 || ChannelMult.Any(m => m < 1))
            throw HyphaException.Config($"channel multipliers must be one or more integers of at least 1 (got {string.Join(",", ChannelMult ?? [])})");
        if (ResBlocks < 1) throw HyphaException.Config($"res blocks must be at least 1 (got {ResBlocks})");
        if (AttentionResolutions is null || AttentionResolutions.Any(r => r < 1))
            throw HyphaException.Config($"attention resolutions must be positive sides (got {string.Join(",", AttentionResolutions ?? [])})");
        if (!(Dropout >= 0 && Dropout < 1)) throw HyphaException.Config($"dropout must be in [0, 1) (got {Dropout})");
        if (Timesteps < 2 || Timesteps > 100_000) throw HyphaException.Config($"timesteps must be in 2..100000 (got {Timesteps})");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw HyphaException.Config($"EMA decay must be in [0, 1) (got {EmaDecay})");
        if (SampleSteps < 1 || SampleSteps > Timesteps) throw HyphaException.Config($"sample steps must be in 1..{Timesteps} (got {SampleSteps})");
        CheckSampler(Sampler);
        if (!(Eta >= 0 && Eta <= 1)) throw HyphaException.Config($"eta must be in [0, 1] (got {Eta})");
    }

    /// <summary>Refuses an unknown sampler name with a one-line configuration error; returns it in lower case.</summary>
    public static string CheckSampler(string? name)
    {
        var key = name?.Trim().ToLowerInvariant();
        if (key is null || !Samplers.Contains(key))
            throw HyphaException.Config($"unknown sampler '{name}': choose one of {string.Join(", ", Samplers)}");
        return key;
    }

    /// <summary>The U-Net these options describe for images of <paramref name="channels"/> channels and side <paramref name="resolution"/>.</summary>
    public UNetSpec Net(int channels, int resolution) => new(channels, resolution, Width, ChannelMult, ResBlocks, AttentionResolutions, Dropout);

    public bool Equals(DiffusionOptions? other) =>
        other is not null && Width == other.Width && ChannelMult.SequenceEqual(other.ChannelMult) && ResBlocks == other.ResBlocks &&
        AttentionResolutions.SequenceEqual(other.AttentionResolutions) && Dropout.Equals(other.Dropout) &&
        Timesteps == other.Timesteps && Schedule == other.Schedule && Prediction == other.Prediction &&
        EmaDecay.Equals(other.EmaDecay) && SampleSteps == other.SampleSteps && Sampler == other.Sampler && Eta.Equals(other.Eta);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Width);
        foreach (var m in ChannelMult) h.Add(m);
        h.Add(ResBlocks);
        foreach (var r in AttentionResolutions) h.Add(r);
        h.Add(Dropout);
        h.Add(Timesteps);
        h.Add(Schedule);
        h.Add(Prediction);
        h.Add(EmaDecay);
        h.Add(SampleSteps);
        h.Add(Sampler);
        h.Add(Eta);
        return h.ToHashCode();
    }
}
