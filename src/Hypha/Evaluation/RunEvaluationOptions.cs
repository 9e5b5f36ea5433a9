namespace Hypha.Evaluation;

/// <summary>
/// What <see cref="RunEvaluation"/> looks at and computes. Defaults are sized for a CPU in minutes on the cpu
/// preset (64 px chunks): at most 2,000 training chunks, 1,000 test chunks, as many samples as test half B.
/// </summary>
public sealed record RunEvaluationOptions
{
    /// <summary>Metric names to compute, in order; null or empty: every registered metric (default).</summary>
    public IReadOnlyList<string>? Metrics { get; init; }

    /// <summary>Samples drawn from the prior; 0 (default): as many as test half B holds, as the metrics want.</summary>
    public int Samples { get; init; }

    /// <summary>Importance samples per image of the IWAE bound (default 64).</summary>
    public int IwaeK { get; init; } = 64;

    /// <summary>Seed of every random choice: subsets, test halves, latent draws, metric internals (default 0).</summary>
    public long Seed { get; init; }

    /// <summary>Training chunks, a seeded random subset, searched for each sample's nearest neighbour (default 2,000; 0: all).</summary>
    public int TrainLimit { get; init; } = 2000;

    /// <summary>Test chunks used, a seeded random subset (default 1,000; 0: all).</summary>
    public int TestLimit { get; init; } = 1000;

    /// <summary>Chunks encoded or decoded at once (default 128).</summary>
    public int Batch { get; init; } = 128;

    /// <summary>Family sampling options (denoising steps, eta, sampler); default the model's own.</summary>
    public Models.SamplerSettings Sampler { get; init; } = new();

    /// <summary>Checks the numbers; throws <see cref="HyphaException"/> (invalid configuration) on a bad one.</summary>
    public RunEvaluationOptions Validated()
    {
        if (Samples < 0) throw HyphaException.Config($"--samples must be 0 (match the test half) or positive, got {Samples}");
        if (IwaeK < 1) throw HyphaException.Config($"--iwae-k must be at least 1, got {IwaeK}");
        if (TrainLimit < 0) throw HyphaException.Config($"--train-limit must be 0 (all) or positive, got {TrainLimit}");
        if (TestLimit is < 0 or 1 or 2 or 3) throw HyphaException.Config($"--test-limit must be 0 (all) or at least 4, got {TestLimit}");
        if (Batch < 1) throw HyphaException.Config($"batch must be positive, got {Batch}");
        return this;
    }
}
