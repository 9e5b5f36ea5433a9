using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>The Gaussian VAE pieces every VAE family shares: reparameterization, the MSE + beta KL loss, prior
/// sampling and reconstruction.</summary>
public static class VaeMath
{
    /// <summary>z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) from <paramref name="generator"/> (torch's global one when null).</summary>
    public static Tensor Reparameterize(Tensor mu, Tensor logVar, Generator? generator = null) =>
        mu + (0.5 * logVar).exp() * (generator is null
            ? randn_like(mu)
            : randn(mu.shape, dtype: mu.dtype, generator: generator).to(mu.device));

    /// <summary>Encode, then decode the posterior mean (<paramref name="deterministic"/>) or a reparameterized sample
    /// drawn from <paramref name="generator"/> (torch's global one when null).</summary>
    public static VaeOutput Forward(IEncoderModel model, Tensor x, Generator? generator = null, bool deterministic = false)
    {
        var (mu, logVar) = model.Encode(x);
        var z = deterministic ? mu : Reparameterize(mu, logVar, generator);
        return new VaeOutput(model.Decode(z), mu, logVar, z);
    }

    /// <summary>
    /// The VAE loss of <paramref name="model"/> on <paramref name="x"/> (<see cref="Forward"/>, through the posterior
    /// mean in validation, then <see cref="Terms"/>).
    /// </summary>
    public static LossTerms Loss(IEncoderModel model, Tensor x, LossContext context, double beta, double reconstructionWeight = 1) =>
        Terms(x, Forward(model, x, context.Noise, deterministic: context.Validation), beta, reconstructionWeight);

    /// <summary>
    /// Summed squared error per image (or, with <paramref name="reconstruction"/> <see cref="ReconstructionLoss.L1"/>,
    /// summed absolute error) plus beta times KL to N(0, I), both averaged over the batch, computed in float32 whatever
    /// the model's precision. Reports <c>loss</c>, <c>reconstruction</c>, <c>kl</c>, <c>mse_per_pixel</c> and
    /// <c>psnr</c> (<see cref="VaeOptions.Terms"/>; the last two from the squared error whatever the reconstruction);
    /// <paramref name="reconstructionWeight"/> scales the reconstruction in the objective only (default 1).
    /// </summary>
    public static LossTerms Terms(Tensor x, VaeOutput output, double beta, double reconstructionWeight = 1,
        ReconstructionLoss reconstruction = ReconstructionLoss.Mse)
    {
        var xhat = output.Reconstruction.to_type(ScalarType.Float32);
        var target = x.to_type(ScalarType.Float32);
        long perImage = target.numel() / target.shape[0];
        var squared = (target - xhat).square().flatten(1).sum(1).mean();
        var recon = reconstruction == ReconstructionLoss.L1 ? (target - xhat).abs().flatten(1).sum(1).mean() : squared;
        var kl = Kl(output.Mu.to_type(ScalarType.Float32), output.LogVar.to_type(ScalarType.Float32));
        var loss = recon + beta * kl;
        var mse = squared / perImage;
        var objective = reconstructionWeight == 1 ? loss : recon * reconstructionWeight + beta * kl;
        return new LossTerms(objective, new Dictionary<string, Tensor>
        {
            ["loss"] = loss, ["reconstruction"] = recon, ["kl"] = kl, ["mse_per_pixel"] = mse,
            ["psnr"] = Imaging.Psnr.FromMse(mse),
        });
    }

    /// <summary>KL divergence of N(mu, exp(logvar)) to N(0, I), summed over the latent, averaged over the batch.</summary>
    public static Tensor Kl(Tensor mu, Tensor logVar) => (-0.5 * (1 + logVar - mu.square() - logVar.exp()).sum(1)).mean();

    /// <summary>Latents z ~ N(0, I) of shape [count, L] from a seeded generator (the global RNG is left alone).</summary>
    public static Tensor PriorLatents(int count, int latent, long seed)
    {
        using var gen = new Generator((ulong)seed);
        return randn([count, latent], generator: gen);
    }

    /// <summary>Samples of a VAE: images <c>Start .. Start + Count</c> decoded from the latents of the seed, in batches,
    /// drawn from <see cref="PriorLatents"/> (N(0, I), <c>--sampler prior</c>, the default) or from the fitted prior in
    /// <see cref="SamplerSettings.Latents"/> (so <c>hypha sample --seed S</c> and <c>hypha evaluate --seed S</c> draw the
    /// same latents with the same sampler).</summary>
    public static Tensor SamplePrior(IEncoderModel model, SampleRequest request)
    {
        using var standard = LatentsFor(model, request.Settings);
        var source = request.Settings.Latents ?? standard!;
        using var z = source.Sample(request.Seed, request.Start, request.Count, request.Device);
        return DecodeBatches(model, z, request.Device, request.Batch, request.Progress);
    }

    /// <summary>Checks the settings against a VAE: only <c>--sampler</c> applies, a fitted prior's name comes with its loaded
    /// <see cref="SamplerSettings.Latents"/> of the model's latent size. Returns N(0, I) when no fitted prior is given, else
    /// null; a configuration error otherwise (unknown name, a fitted prior not loaded, other options).</summary>
    static StandardNormalLatents? LatentsFor(IEncoderModel model, SamplerSettings settings)
    {
        model.RefuseSettings(settings, "--sampler");
        var name = settings.Sampler ?? settings.Latents?.Name ?? LatentSamplers.Prior;
        if (!LatentSamplers.Names.Contains(name))
            throw HyphaException.Config($"unknown sampler '{name}' for the run's model ({model.Kind}): {LatentSamplers.Listed(LatentSamplers.Names)}");
        if (settings.Latents is { } given)
        {
            if (given.Name != name) throw new ArgumentException($"--sampler {name} was given with the {given.Name} prior loaded", nameof(settings));
            if (given.LatentSize != model.LatentSize)
                throw HyphaException.Config($"the {given.Name} prior makes {given.LatentSize}-dimensional latents, the run's model ({model.Kind}) takes {model.LatentSize}");
            return null;
        }
        if (name != LatentSamplers.Prior)
            throw HyphaException.Config($"--sampler {name} is not loaded: fit it with hypha fit-prior --run RUN --sampler {name}");
        return new StandardNormalLatents(model.LatentSize);
    }

    /// <summary>What a VAE's <see cref="IGenerativeModel.DescribeSampler"/> says: <c>prior</c> (z ~ N(0, I), decoded), or
    /// the loaded fitted prior's name (<c>gmm</c>, <c>latent-diffusion</c>); refuses settings a VAE does not take, by name, as sampling would.</summary>
    public static string DescribePrior(IEncoderModel model, SamplerSettings settings)
    {
        using var standard = LatentsFor(model, settings);
        return settings.Latents?.Name ?? LatentSamplers.Prior;
    }

    /// <summary>Decodes latents in batches of <paramref name="batch"/>; returns images [N, C, H, W] on the CPU, float32.
    /// Each batch is copied once, straight into its rows of the result (no per-batch host tensors, no concatenation).</summary>
    public static Tensor DecodeBatches(IEncoderModel model, Tensor z, Device device, int batch = 256, Action<int>? progress = null)
    {
        var count = z.shape[0];
        if (count == 0) throw new ArgumentException("no latents to decode", nameof(z));
        using var mode = model.EvalMode();
        using var noGrad = no_grad();
        Tensor? result = null;
        for (long i = 0; i < count; i += batch)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(batch, count - i);
            var images = model.Decode(z.narrow(0, i, length).to(device));
            result ??= empty([count, .. images.shape[1..]], ScalarType.Float32, CPU).MoveToOuterDisposeScope();
            result.narrow(0, i, length).copy_(images); // converts bf16 and channels-last, and leaves the device, in one copy
            progress?.Invoke((int)(i + length));
        }
        return result!;
    }

    /// <summary>Reconstructs x (on any device) through the posterior mean: decode(mu(x)). Returns the result on x's device.</summary>
    public static Tensor Reconstruct(IEncoderModel model, Tensor x)
    {
        using var mode = model.EvalMode();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (mu, _) = model.Encode(x);
        return model.Decode(mu).MoveToOuterDisposeScope();
    }
}
