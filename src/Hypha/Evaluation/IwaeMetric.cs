using Hypha.Models;
using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// iwae_bits_per_dim: negative importance-weighted log-likelihood bound (<see cref="Iwae"/>) of the model on real
/// test half B, in bits per dimension of the continuous density of x in [0, 1] (nats / (C*H*W ln 2); negative
/// values are possible for small sigma). Defaults: K = 64 samples per image, decoder sigma sqrt(1/2), at most 256
/// images. Values also give the bound for K = 1 (the ELBO), 8 and K, in nats per image and bits per dimension
/// (the K draws are nested: the K = 8 bound uses the first 8 of the 64). Floor: the exact likelihood, on the
/// same images, of the "mean image" model N(mean of test half A, sigma^2 I): the model should beat it.
/// Lower is better.
/// </summary>
public sealed class IwaeMetric : IMetric
{
    /// <summary>Registry key.</summary>
    public const string Key = "iwae_bits_per_dim";
    /// <summary>Importance samples per image (default 64).</summary>
    public int K { get; init; } = 64;
    /// <summary>Decoder standard deviation (default sqrt(1/2), see <see cref="Iwae.DefaultSigma"/>).</summary>
    public double Sigma { get; init; } = Iwae.DefaultSigma;
    /// <summary>Most test images scored (default 256; the first ones of test half B).</summary>
    public int MaxImages { get; init; } = 256;

    public string Name => Key;
    public int Version => 1;

    public string? MissingInputs(EvaluationInputs inputs) => inputs.Model switch
    {
        null => "no model",
        { } m when m.As<Models.ILikelihoodModel>() is null => $"the {m.Kind} model has no likelihood bound of this kind",
        _ => null,
    };

    public MetricResult Compute(EvaluationInputs inputs)
    {
        using var scope = NewDisposeScope();
        var x = inputs.TestRealB[..(int)Math.Min(MaxImages, inputs.TestRealB.shape[0])];
        var dims = x.shape[1] * x.shape[2] * x.shape[3];
        using var gen = Seeds.Generator(inputs.Seed, 0x1AE);
        var logW = Iwae.LogWeights(inputs.Model!.As<Models.ILikelihoodModel>()!, x, K, Sigma, gen);
        var values = new Dictionary<string, double>();
        foreach (var k in new[] { 1, 8, K }.Where(k => k <= K).Distinct())
        {
            var nll = -Iwae.Bound(logW, k);
            values[$"nll_nats_k{k}"] = nll;
            values[$"bits_per_dim_k{k}"] = Iwae.BitsPerDim(nll, dims);
        }
        var floorNll = Iwae.MeanImageNll(inputs.TestRealA.mean([0], keepdim: true), x, Sigma);
        return new MetricResult(Key, Version, values[$"bits_per_dim_k{K}"], Iwae.BitsPerDim(floorNll, dims), false,
            values,
            new Dictionary<string, double> { ["nll_nats"] = floorNll, ["bits_per_dim"] = Iwae.BitsPerDim(floorNll, dims) },
            new Dictionary<string, int> { ["images"] = (int)x.shape[0], ["floor_fit"] = inputs.Count(ImageSet.TestRealA) },
            new Dictionary<string, double> { ["k"] = K, ["sigma"] = Sigma, ["dims"] = dims }, inputs.Seed);
    }
}
