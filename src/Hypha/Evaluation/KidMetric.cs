namespace Hypha.Evaluation;

/// <summary>
/// kid: kernel distance (<see cref="KernelDistance"/>) between sample and real-reference (test A) features, in the
/// extractor's space (ResNet18 by default, not Inception). Value is the mean over subsets; "std" in Values.
/// Floor: the same between the two real test halves. Lower is better. Defaults: 100 subsets of at most 1000.
/// </summary>
public sealed class KidMetric(IFeatureExtractor extractor) : IMetric
{
    /// <summary>Registry key.</summary>
    public const string Key = "kid";
    /// <summary>Number of random subsets (default 100).</summary>
    public int Subsets { get; init; } = 100;
    /// <summary>Largest subset size (default 1000; smaller sets use their size).</summary>
    public int SubsetSize { get; init; } = 1000;

    public string Name => Key;
    public int Version => 1;

    public string? MissingInputs(EvaluationInputs inputs) =>
        inputs.Samples is null ? "no samples" : inputs.Samples.shape[0] < 2 ? "fewer than 2 samples" : null;

    public MetricResult Compute(EvaluationInputs inputs)
    {
        var real = inputs.Features(extractor, ImageSet.TestRealA);
        var fake = inputs.Features(extractor, ImageSet.Samples);
        var other = inputs.Features(extractor, ImageSet.TestRealB);
        using var gen = Seeds.Generator(inputs.Seed, 0x41D);
        var value = KernelDistance.Compute(real, fake, gen, Subsets, SubsetSize);
        using var genFloor = Seeds.Generator(inputs.Seed, 0x41D);
        var floor = KernelDistance.Compute(real, other, genFloor, Subsets, SubsetSize);
        return new MetricResult(Key, Version, value.Mean, floor.Mean, false,
            new Dictionary<string, double> { ["std"] = value.Std },
            new Dictionary<string, double> { ["std"] = floor.Std },
            FeatureCounts.Of(inputs),
            new Dictionary<string, double> { ["subsets"] = Subsets, ["subset_size"] = SubsetSize, ["degree"] = 3, ["feature_dim"] = extractor.Dimension },
            inputs.Seed, extractor.Name);
    }
}
