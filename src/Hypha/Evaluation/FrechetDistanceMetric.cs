using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// fd_&lt;space&gt; (registered as fd_resnet18): Fréchet distance (<see cref="FrechetDistance"/>) between the
/// features of the samples and of the real reference half (test A). Floor: the same between the two real test
/// halves. Lower is better. In ResNet18 ImageNet features, not Inception: not comparable with published FID.
/// </summary>
public sealed class FrechetDistanceMetric(IFeatureExtractor extractor) : IMetric
{
    public string Name => "fd_" + extractor.Name;
    public int Version => 1;

    public string? MissingInputs(EvaluationInputs inputs) =>
        inputs.Samples is null ? "no samples" : inputs.Samples.shape[0] < 2 ? "fewer than 2 samples" : null;

    public MetricResult Compute(EvaluationInputs inputs)
    {
        var real = inputs.Features(extractor, ImageSet.TestRealA);
        var fake = inputs.Features(extractor, ImageSet.Samples);
        var other = inputs.Features(extractor, ImageSet.TestRealB);
        var value = FrechetDistance.Compute(real, fake);
        var floor = FrechetDistance.Compute(real, other);
        return new MetricResult(Name, Version, value, floor, false,
            new Dictionary<string, double>(), new Dictionary<string, double>(),
            FeatureCounts.Of(inputs), new Dictionary<string, double> { ["feature_dim"] = extractor.Dimension },
            inputs.Seed, extractor.Name);
    }
}

/// <summary>Set sizes of the feature-space metrics.</summary>
internal static class FeatureCounts
{
    public static Dictionary<string, int> Of(EvaluationInputs inputs) => new()
    {
        ["real"] = inputs.Count(ImageSet.TestRealA),
        ["samples"] = inputs.Count(ImageSet.Samples),
        ["floor_real"] = inputs.Count(ImageSet.TestRealA),
        ["floor_samples"] = inputs.Count(ImageSet.TestRealB),
    };
}
