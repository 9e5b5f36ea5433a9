using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// ssim: mean SSIM between test chunks and their reconstructions (<see cref="Ssim"/>: Gaussian 11x11 window,
/// sigma 1.5, K1 0.01, K2 0.03, data range 1). Floor: the same between index-paired chunks of the two real test
/// halves (chance level). Higher is better.
/// </summary>
public sealed class SsimMetric : IMetric
{
    /// <summary>Registry key.</summary>
    public const string Key = "ssim";
    /// <summary>Images per batch (bounds memory).</summary>
    public int BatchSize { get; init; } = 64;

    public string Name => Key;
    public int Version => 1;

    public string? MissingInputs(EvaluationInputs inputs) =>
        inputs.Originals is null || inputs.Reconstructions is null ? "no reconstructions" : null;

    internal static Tensor Batched(Tensor x, Tensor y, int batch, Func<Tensor, Tensor, Tensor> f)
    {
        var parts = new List<Tensor>();
        for (long i = 0; i < x.shape[0]; i += batch)
        {
            var end = Math.Min(i + batch, x.shape[0]);
            parts.Add(f(x[(int)i..(int)end], y[(int)i..(int)end]));
        }
        return cat(parts, 0);
    }

    public MetricResult Compute(EvaluationInputs inputs)
    {
        using var scope = NewDisposeScope();
        var value = Batched(inputs.Originals!, inputs.Reconstructions!, BatchSize, (a, b) => Ssim.PerImage(a, b));
        var (ra, rb) = Pairing.Halves(inputs);
        var floor = Batched(ra, rb, BatchSize, (a, b) => Ssim.PerImage(a, b));
        return new MetricResult(Key, Version, value.mean().item<double>(), floor.mean().item<double>(), true,
            new Dictionary<string, double> { ["std"] = value.std().item<double>() },
            new Dictionary<string, double> { ["std"] = floor.std().item<double>() },
            new Dictionary<string, int> { ["reconstructions"] = (int)value.shape[0], ["floor_pairs"] = (int)floor.shape[0] },
            new Dictionary<string, double>
            {
                ["window"] = Ssim.WindowSize, ["sigma"] = Ssim.WindowSigma, ["k1"] = Ssim.K1, ["k2"] = Ssim.K2, ["data_range"] = 1,
            }, inputs.Seed);
    }
}
