using System.Globalization;
using Hypha.Models;
using static TorchSharp.torch;

namespace Hypha.Sampling.Priors;

/// <summary>The <c>gmm</c> sampler: latents drawn from a <see cref="GaussianMixture"/> fitted by EM to the posterior
/// means of the training chunks (pythae's GaussianMixtureSampler).</summary>
public sealed class GaussianMixturePrior(GaussianMixture mixture) : ILatentSampler
{
    public GaussianMixture Mixture { get; } = mixture;

    /// <summary>What it was fitted to, for <see cref="Describe"/>: the number of latent vectors (0: not said).</summary>
    public int Vectors { get; init; }

    /// <summary>The fit's final mean log-likelihood per vector (nats), for <see cref="Describe"/>; null: not said.</summary>
    public double? LogLikelihood { get; init; }

    public string Name => LatentSamplers.Gmm;

    public int LatentSize => Mixture.Dimensions;

    public string Describe() =>
        $"gmm: {Mixture.Components} components, {(Mixture.Kind == CovarianceKind.Full ? "full" : "diagonal")} covariance" +
        (Vectors > 0 ? $", fitted by EM to {Vectors:N0} posterior means" : "") +
        (LogLikelihood is { } ll ? $" (mean log-likelihood {ll.ToString("F2", CultureInfo.InvariantCulture)} nats)" : "");

    public Tensor Sample(long seed, int start, int count, Device? device = null) => Mixture.Sample(seed, start, count);

    public void Dispose() => Mixture.Dispose();
}
