namespace Hypha.Evaluation;

/// <summary>
/// One metric's outcome: the model's value, the real-vs-real floor of the same metric, and everything needed
/// to reproduce or compare it (version, parameters, set sizes, seed).
/// </summary>
/// <param name="Name">Registry key, e.g. "fd_resnet18".</param>
/// <param name="Version">Bumped whenever the definition or a default changes; compare values only at equal versions.</param>
/// <param name="Value">The headline number for the model.</param>
/// <param name="Floor">The same metric between two disjoint sets of real chunks (null where it has no meaning).</param>
/// <param name="HigherIsBetter">Direction of <paramref name="Value"/>.</param>
/// <param name="Values">Named components of the model's value (per level, per K, std, ...); may be empty.</param>
/// <param name="FloorValues">The same components for the floor; may be empty.</param>
/// <param name="Counts">Images used, by role (e.g. "real", "samples", "floor_real", "floor_samples").</param>
/// <param name="Parameters">Settings the value depends on (k, K, sigma, subset size, ...).</param>
/// <param name="Seed">The evaluation seed the random choices were drawn from.</param>
/// <param name="FeatureSpace">Feature extractor name for feature-space metrics (e.g. "resnet18"), else null.</param>
/// <param name="ClosestPairs">Memorization only: the samples closest to a training chunk, closest first.</param>
public sealed record MetricResult(
    string Name,
    int Version,
    double Value,
    double? Floor,
    bool HigherIsBetter,
    IReadOnlyDictionary<string, double> Values,
    IReadOnlyDictionary<string, double> FloorValues,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyDictionary<string, double> Parameters,
    long Seed,
    string? FeatureSpace = null,
    IReadOnlyList<NearestPair>? ClosestPairs = null);

/// <summary>A sample and its nearest training chunk.</summary>
/// <param name="SampleIndex">Index into <see cref="EvaluationInputs.Samples"/>.</param>
/// <param name="TrainIndex">Index into <see cref="EvaluationInputs.TrainReal"/>.</param>
/// <param name="Distance">Root-mean-square pixel difference between the two (L2 distance / sqrt(C*H*W)).</param>
public sealed record NearestPair(int SampleIndex, int TrainIndex, double Distance);
