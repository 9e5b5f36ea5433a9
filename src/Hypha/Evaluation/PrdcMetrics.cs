namespace Hypha.Evaluation;

/// <summary>
/// Shared base of precision, recall, density and coverage (<see cref="Prdc"/>, k = 5 by default): samples against
/// the real reference half (test A), floor the real test B half against test A, in the extractor's feature space.
/// Higher is better for all four (density can exceed 1; its expected value for matching distributions is 1).
/// </summary>
public abstract class PrdcMetric(IFeatureExtractor extractor, string name) : IMetric
{
    /// <summary>Neighbours per radius (default 5).</summary>
    public int K { get; init; } = Prdc.DefaultK;

    public string Name => name;
    public int Version => 1;

    /// <summary>The component this metric reports.</summary>
    protected abstract double Select(PrdcValues v);

    public string? MissingInputs(EvaluationInputs inputs) =>
        inputs.Samples is null ? "no samples"
        : inputs.Samples.shape[0] <= K || inputs.TestRealA.shape[0] <= K || inputs.TestRealB.shape[0] <= K ? $"k = {K} needs more than {K} images per set"
        : null;

    public MetricResult Compute(EvaluationInputs inputs)
    {
        var real = inputs.Features(extractor, ImageSet.TestRealA);
        var value = Prdc.Compute(real, inputs.Features(extractor, ImageSet.Samples), K);
        var floor = Prdc.Compute(real, inputs.Features(extractor, ImageSet.TestRealB), K);
        return new MetricResult(Name, Version, Select(value), Select(floor), true,
            new Dictionary<string, double>(), new Dictionary<string, double>(), FeatureCounts.Of(inputs),
            new Dictionary<string, double> { ["k"] = K, ["feature_dim"] = extractor.Dimension }, inputs.Seed, extractor.Name);
    }
}

/// <summary>precision: fraction of samples inside the real k-NN manifold (fidelity).</summary>
public sealed class PrecisionMetric(IFeatureExtractor extractor) : PrdcMetric(extractor, Key)
{
    /// <summary>Registry key.</summary>
    public const string Key = "precision";
    protected override double Select(PrdcValues v) => v.Precision;
}

/// <summary>recall: fraction of real chunks inside the samples' k-NN manifold (diversity).</summary>
public sealed class RecallMetric(IFeatureExtractor extractor) : PrdcMetric(extractor, Key)
{
    /// <summary>Registry key.</summary>
    public const string Key = "recall";
    protected override double Select(PrdcValues v) => v.Recall;
}

/// <summary>density: mean number of real k-NN balls per sample, divided by k (fidelity, robust to outliers).</summary>
public sealed class DensityMetric(IFeatureExtractor extractor) : PrdcMetric(extractor, Key)
{
    /// <summary>Registry key.</summary>
    public const string Key = "density";
    protected override double Select(PrdcValues v) => v.Density;
}

/// <summary>coverage: fraction of real chunks whose k-NN ball holds at least one sample (diversity, robust to outliers).</summary>
public sealed class CoverageMetric(IFeatureExtractor extractor) : PrdcMetric(extractor, Key)
{
    /// <summary>Registry key.</summary>
    public const string Key = "coverage";
    protected override double Select(PrdcValues v) => v.Coverage;
}
