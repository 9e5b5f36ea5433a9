using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>
/// What every generative model offers, whatever its family: the training loss of a batch as named terms, and
/// sampling. Everything else a caller may want (encode and reconstruct, a likelihood bound, progressive growth, a
/// denoising trajectory, work after each optimizer step) is a capability interface that the caller asks for with
/// <see cref="ModelCapabilities.As{T}"/>, never by testing the concrete type.
/// </summary>
public interface IGenerativeModel : IDisposable
{
    /// <summary>The registry name of the model's family (<see cref="ModelDescriptor.Name"/>), e.g. <c>resnet_vae</c>.</summary>
    string Kind { get; }

    /// <summary>Image channels in and out (1 gray, 3 rgb).</summary>
    int Channels { get; }

    /// <summary>Side of the square images the model currently takes and produces, in pixels (a progressive model's
    /// grows during training; every other model's is the chunk size).</summary>
    int Resolution { get; }

    /// <summary>The underlying TorchSharp module: parameters, train/eval mode, device moves, state dict (what a
    /// checkpoint holds, so any state that must survive a resume, such as EMA weights, is a parameter or buffer).</summary>
    nn.Module Module { get; }

    /// <summary>
    /// The training objective of a batch <paramref name="x"/> [B, C, R, R] in [0, 1] at the model's resolution, and
    /// the terms to report. Term names are those the family's descriptor lists in <see cref="ModelDescriptor.Terms"/>;
    /// they flow unchanged to metrics.csv, TensorBoard, the progress line and the curves.
    /// </summary>
    LossTerms Loss(Tensor x, LossContext context);

    /// <summary>
    /// Images [request.Count, C, R, R] on the CPU, float32 in [0, 1], without gradients and in eval mode (the module's
    /// mode is restored). Image <c>i</c> of a request depends only on (seed, <see cref="SampleRequest.Start"/> + i) and
    /// the settings, not on the batch size or the count, so sample sets can be written in slices.
    /// </summary>
    Tensor Sample(SampleRequest request);

    /// <summary>
    /// The sampler that <paramref name="settings"/> resolve to, in words for provenance (manifests, metrics context),
    /// e.g. <c>prior</c> or <c>ddim steps 50 eta 0</c>; refuses settings the family does not take, as
    /// <see cref="Sample"/> would, so writers can check them before any work. Default: the settings given, or
    /// <c>default</c> when none.
    /// </summary>
    string DescribeSampler(SamplerSettings settings) => settings.Describe();
}

/// <summary>What a loss computation may depend on besides the batch.</summary>
/// <param name="ImagesSeen">Training images shown before this batch (schedules such as a KL warm-up follow it, so a
/// resumed run continues them exactly).</param>
/// <param name="Noise">Generator for every random draw of the loss (noise, timesteps, reparameterization); null
/// draws from torch's global generator, whose state checkpoints keep. Validation passes a seeded one, so it is
/// deterministic and leaves the global generator alone.</param>
/// <param name="Validation">True when scoring held-out chunks: a model may then use deterministic paths (a VAE
/// reconstructs through its posterior mean).</param>
public sealed record LossContext(long ImagesSeen, Generator? Noise = null, bool Validation = false);

/// <summary>The loss of one batch.</summary>
/// <param name="Objective">The scalar the optimizer minimizes.</param>
/// <param name="Reported">Named scalar terms to record, each averaged over the batch, in the order the family lists
/// them; the first is conventionally <c>loss</c>. May include terms that are not part of the objective (PSNR).</param>
public sealed record LossTerms(Tensor Objective, IReadOnlyDictionary<string, Tensor> Reported)
{
    /// <summary>
    /// For a model with a second network (<see cref="IAuxiliaryModel"/>, a VAE's discriminator): that network's loss
    /// on this batch, computed when called, after the model's own optimizer step, from tensors of this batch detached
    /// from the model's graph. The trainer steps the second network's optimizer on its <see cref="Objective"/> and
    /// records its <see cref="Reported"/> terms beside the model's. Null (default) when no second step is due.
    /// </summary>
    public Func<LossTerms>? Auxiliary { get; init; }

    /// <summary>The reported terms as numbers (one device synchronization).</summary>
    public Dictionary<string, double> Values()
    {
        if (Reported.Count == 0) return [];
        using var scope = NewDisposeScope();
        var stacked = stack(Reported.Values.Select(t => t.detach().to_type(ScalarType.Float64).reshape(1)).ToArray()).cpu();
        var values = stacked.data<double>().ToArray();
        return Reported.Keys.Select((k, i) => (k, values[i])).ToDictionary(p => p.k, p => p.Item2);
    }
}

/// <summary>A request for samples.</summary>
/// <param name="Count">Images to return.</param>
/// <param name="Seed">Seed of every random draw.</param>
public sealed record SampleRequest(int Count, long Seed)
{
    /// <summary>Index of the first image in the seeded sequence; default 0.</summary>
    public int Start { get; init; }

    /// <summary>Images generated at once on the device; default 256.</summary>
    public int Batch { get; init; } = 256;

    /// <summary>Device to compute on; default the CPU.</summary>
    public Device Device { get; init; } = CPU;

    /// <summary>Family options (denoising steps, eta, sampler); default none set, the family's own defaults.</summary>
    public SamplerSettings Settings { get; init; } = new();

    /// <summary>Called with the number of images finished so far in this request.</summary>
    public Action<int>? Progress { get; init; }

    /// <summary>Called after each denoising step of the batch in hand with (steps done, steps per batch), so that a
    /// long batch shows progress; families that make a batch in one pass (the VAEs) do not call it. Default none.</summary>
    public Action<int, int>? StepProgress { get; init; }
}

/// <summary>Sampling options that only some families take; a family refuses the ones it does not use
/// (<see cref="ModelCapabilities.RefuseSettings"/>), naming them.</summary>
public sealed record SamplerSettings
{
    /// <summary>The sampler: for diffusion models <c>ddim</c> or <c>ddpm</c>; for VAEs <c>prior</c> (N(0, I)), <c>gmm</c>
    /// or <c>latent-diffusion</c> (<see cref="LatentSamplers"/>; the fitted ones come with <see cref="Latents"/>); null:
    /// the family's default.</summary>
    public string? Sampler { get; init; }

    /// <summary>For VAEs: the loaded prior their latents are drawn from when <see cref="Sampler"/> names a fitted one
    /// (<c>Hypha.Sampling.Priors.FittedPriors.Resolve</c> loads it from the run folder); null: N(0, I). The caller that
    /// set it disposes it.</summary>
    public ILatentSampler? Latents { get; init; }

    /// <summary>Denoising steps (diffusion); null: the model's default.</summary>
    public int? Steps { get; init; }

    /// <summary>DDIM's eta, 0 deterministic to 1 ancestral-like (diffusion); null: the model's default.</summary>
    public double? Eta { get; init; }

    /// <summary>The settings given, in words ("ddpm, steps 20"; "default" when none was set): how metrics.jsonl's context records them.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (Latents is not null) parts.Add(Latents.Describe());
        else if (Sampler is not null) parts.Add(Sampler);
        if (Steps is not null) parts.Add($"steps {Steps}");
        if (Eta is not null) parts.Add($"eta {Eta.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        return parts.Count == 0 ? "default" : string.Join(", ", parts);
    }

    /// <summary>The option names set, as the command line spells them.</summary>
    public IEnumerable<string> Given()
    {
        if (Sampler is not null) yield return "--sampler";
        if (Steps is not null) yield return "--steps";
        if (Eta is not null) yield return "--eta";
    }
}
