using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// memorization: how many samples are suspiciously close to a training chunk. Distances are RMS pixel distances
/// to the nearest training chunk (<see cref="NearestNeighbours"/>). The threshold is the 5th percentile
/// (<see cref="Percentile"/>) of the nearest-train distances of the real held-out chunks of test half A: a real
/// unseen chunk is that close to the training set only 5% of the time. Value: fraction of samples strictly
/// closer than the threshold (copies of training chunks have distance 0). Floor: the same fraction for test half
/// B (about 0.05 by construction). Lower is better; well above the floor means memorization. ClosestPairs holds
/// the 16 samples nearest to a training chunk, for a report to show side by side.
/// The 5th percentile rather than the median: it isolates near-copies instead of flagging half of a model that
/// merely fits the data well.
/// </summary>
public sealed class MemorizationMetric : IMetric
{
    /// <summary>Registry key.</summary>
    public const string Key = "memorization";
    /// <summary>Percentile (0-100) of the held-out nearest-train distances used as threshold (default 5).</summary>
    public double Percentile { get; init; } = 5;
    /// <summary>Number of closest pairs returned (default 16).</summary>
    public int PairsReturned { get; init; } = 16;

    public string Name => Key;
    public int Version => 1;

    public string? MissingInputs(EvaluationInputs inputs) => inputs.Samples is null ? "no samples" : null;

    public MetricResult Compute(EvaluationInputs inputs)
    {
        using var scope = NewDisposeScope();
        var (sampleDist, sampleIdx) = NearestNeighbours.Find(inputs.Samples!, inputs.TrainReal);
        var (aDist, _) = NearestNeighbours.Find(inputs.TestRealA, inputs.TrainReal);
        var (bDist, _) = NearestNeighbours.Find(inputs.TestRealB, inputs.TrainReal);
        var threshold = aDist.quantile(tensor(Percentile / 100.0, dtype: float64)).item<double>();
        var value = (sampleDist < threshold).to(float64).mean().item<double>();
        var floor = (bDist < threshold).to(float64).mean().item<double>();

        var k = (int)Math.Min(PairsReturned, sampleDist.shape[0]);
        var (closest, order) = sampleDist.topk(k, largest: false);
        var pairs = new List<NearestPair>();
        for (var i = 0; i < k; i++)
        {
            var s = order[i].item<long>();
            pairs.Add(new NearestPair((int)s, (int)sampleIdx[s].item<long>(), closest[i].item<double>()));
        }
        return new MetricResult(Key, Version, value, floor, false,
            new Dictionary<string, double>
            {
                ["threshold"] = threshold, ["median_distance"] = sampleDist.median().item<double>(),
                ["min_distance"] = sampleDist.min().item<double>(),
            },
            new Dictionary<string, double>
            {
                ["median_distance"] = bDist.median().item<double>(), ["min_distance"] = bDist.min().item<double>(),
            },
            new Dictionary<string, int>
            {
                ["train"] = inputs.Count(ImageSet.TrainReal), ["samples"] = inputs.Count(ImageSet.Samples),
                ["threshold_real"] = inputs.Count(ImageSet.TestRealA), ["floor_samples"] = inputs.Count(ImageSet.TestRealB),
            },
            new Dictionary<string, double> { ["percentile"] = Percentile }, inputs.Seed, null, pairs);
    }
}
