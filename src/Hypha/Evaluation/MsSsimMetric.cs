using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// ms_ssim: sample diversity as the mean MS-SSIM over random pairs of distinct samples (<see cref="Ssim.MsSsimPerImage"/>,
/// scales adapted to the image size: 3 for 56-64 px). Lower means more diverse. Floor: the mean MS-SSIM of random
/// pairs of real chunks, one from each test half: the diversity of the data itself. A model close to its floor is
/// as diverse as the data; far above it means mode collapse. Defaults: 1000 pairs at most.
/// </summary>
public sealed class MsSsimMetric : IMetric
{
    /// <summary>Registry key.</summary>
    public const string Key = "ms_ssim";
    /// <summary>Most pairs drawn (default 1000).</summary>
    public int MaxPairs { get; init; } = 1000;
    /// <summary>Pairs per batch (default 64).</summary>
    public int BatchSize { get; init; } = 64;

    public string Name => Key;
    public int Version => 1;

    public string? MissingInputs(EvaluationInputs inputs) =>
        inputs.Samples is null ? "no samples" : inputs.Samples.shape[0] < 2 ? "fewer than 2 samples" : null;

    public MetricResult Compute(EvaluationInputs inputs)
    {
        using var scope = NewDisposeScope();
        var samples = inputs.Samples!;
        var n = samples.shape[0];
        var pairs = (int)Math.Min(MaxPairs, n * (n - 1) / 2);
        using var gen = Seeds.Generator(inputs.Seed, 0x3553);
        var i = randint(0, n, [pairs], dtype: int64, generator: gen);
        var j = (i + 1 + randint(0, n - 1, [pairs], dtype: int64, generator: gen)) % n;
        var value = SsimMetric.Batched(samples.index_select(0, i), samples.index_select(0, j), BatchSize,
            (a, b) => Ssim.MsSsimPerImage(a, b));
        var fa = randint(0, inputs.TestRealA.shape[0], [pairs], dtype: int64, generator: gen);
        var fb = randint(0, inputs.TestRealB.shape[0], [pairs], dtype: int64, generator: gen);
        var floor = SsimMetric.Batched(inputs.TestRealA.index_select(0, fa), inputs.TestRealB.index_select(0, fb), BatchSize,
            (a, b) => Ssim.MsSsimPerImage(a, b));
        var scales = Ssim.MsSsimScales((int)Math.Min(samples.shape[2], samples.shape[3]));
        return new MetricResult(Key, Version, value.mean().item<double>(), floor.mean().item<double>(), false,
            new Dictionary<string, double> { ["std"] = value.std().item<double>() },
            new Dictionary<string, double> { ["std"] = floor.std().item<double>() },
            new Dictionary<string, int> { ["samples"] = (int)n, ["pairs"] = pairs, ["floor_pairs"] = pairs },
            new Dictionary<string, double> { ["scales"] = scales, ["max_pairs"] = MaxPairs }, inputs.Seed);
    }
}
