using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>
/// Where a VAE's samples take their latent vectors from: the N(0, I) prior the model was trained with
/// (<see cref="StandardNormalLatents"/>), or a distribution fitted to the encoded training chunks after training
/// (the fitted priors in <c>Hypha.Sampling.Priors</c>: a Gaussian mixture, a latent diffusion model). A VAE decodes
/// whatever it is handed (<see cref="SamplerSettings.Latents"/>), so a new prior needs no change to any model.
/// </summary>
public interface ILatentSampler : IDisposable
{
    /// <summary>The name <c>--sampler</c> takes: <c>prior</c>, <c>gmm</c>, <c>latent-diffusion</c>.</summary>
    string Name { get; }

    /// <summary>Size of the latent vectors it makes.</summary>
    int LatentSize { get; }

    /// <summary>What it is, in one line, for metrics.jsonl and the report (e.g. "gmm: 10 components, full covariance").</summary>
    string Describe();

    /// <summary>
    /// Latents [<paramref name="count"/>, <see cref="LatentSize"/>] on the CPU, float32: rows <paramref name="start"/> ..
    /// start + count - 1 of the sequence seeded by <paramref name="seed"/>, row i depending only on (seed, start + i), so
    /// sample sets can be written in slices. <paramref name="device"/> is where any network runs (default the CPU).
    /// </summary>
    Tensor Sample(long seed, int start, int count, Device? device = null);
}

/// <summary>The names <c>--sampler</c> takes for the VAE families.</summary>
public static class LatentSamplers
{
    /// <summary>N(0, I) (<see cref="StandardNormalLatents"/>): the default.</summary>
    public const string Prior = "prior";

    /// <summary>A Gaussian mixture fitted by EM to the training chunks' posterior means (hypha fit-prior).</summary>
    public const string Gmm = "gmm";

    /// <summary>A small diffusion model trained on the training chunks' posterior means (hypha fit-prior).</summary>
    public const string LatentDiffusion = "latent-diffusion";

    /// <summary>Every name, the default first.</summary>
    public static IReadOnlyList<string> Names { get; } = [Prior, Gmm, LatentDiffusion];

    /// <summary>The names of the priors fitted after training.</summary>
    public static IReadOnlyList<string> Fitted { get; } = [Gmm, LatentDiffusion];

    /// <summary>"prior, gmm or latent-diffusion".</summary>
    public static string Listed(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} or {names[^1]}";
}

/// <summary>The prior the VAEs are trained with, N(0, I): <c>--sampler prior</c>, the default. Draws the same latents
/// Hypha always drew (<see cref="VaeMath.PriorLatents"/>), so samples of a seed do not change.</summary>
public sealed class StandardNormalLatents(int latentSize) : ILatentSampler
{
    public string Name => LatentSamplers.Prior;

    public int LatentSize { get; } = latentSize;

    public string Describe() => "prior: N(0, I), the prior the model was trained with";

    public Tensor Sample(long seed, int start, int count, Device? device = null)
    {
        using var all = VaeMath.PriorLatents(start + count, LatentSize, seed);
        return all.narrow(0, start, count).clone();
    }

    public void Dispose() { }
}
