using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// psnr: peak signal-to-noise ratio of reconstructions, 10 log10(1 / MSE) in dB per image (data range 1, MSE
/// over all pixels and channels, floored at 1e-10 so identical images give 100 dB), averaged over images.
/// Floor: the same between index-paired chunks of the two real test halves (a "reconstruction" that is
/// another real chunk: the chance level). Higher is better.
/// </summary>
public sealed class PsnrMetric : IMetric
{
    /// <summary>Registry key.</summary>
    public const string Key = "psnr";
    /// <summary>MSE floor that caps PSNR at 100 dB (<see cref="Imaging.Psnr.MinMse"/>).</summary>
    public const double MinMse = Imaging.Psnr.MinMse;

    public string Name => Key;
    public int Version => 1;

    public string? MissingInputs(EvaluationInputs inputs) =>
        inputs.Originals is null || inputs.Reconstructions is null ? "no reconstructions" : null;

    /// <summary>PSNR in dB of each image pair [N] (float64); see <see cref="Imaging.Psnr.PerImage"/>.</summary>
    public static Tensor PerImage(Tensor x, Tensor y) => Imaging.Psnr.PerImage(x, y);

    public MetricResult Compute(EvaluationInputs inputs)
    {
        using var scope = NewDisposeScope();
        var value = PerImage(inputs.Originals!, inputs.Reconstructions!);
        var (a, b) = Pairing.Halves(inputs);
        var floor = PerImage(a, b);
        return new MetricResult(Key, Version, value.mean().item<double>(), floor.mean().item<double>(), true,
            new Dictionary<string, double> { ["std"] = value.std().item<double>() },
            new Dictionary<string, double> { ["std"] = floor.std().item<double>() },
            new Dictionary<string, int> { ["reconstructions"] = (int)value.shape[0], ["floor_pairs"] = (int)floor.shape[0] },
            new Dictionary<string, double> { ["data_range"] = 1, ["min_mse"] = MinMse }, inputs.Seed);
    }
}
