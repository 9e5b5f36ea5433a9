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
    /// Summed squared error per image plus beta times KL to N(0, I), both averaged over the batch, computed in float32
    /// whatever the model's precision. Reports <c>loss</c>, <c>reconstruction</c>, <c>kl</c>, <c>mse_per_pixel</c> and
    /// <c>psnr</c> (<see cref="VaeOptions.Terms"/>); <paramref name="reconstructionWeight"/> scales the reconstruction in
    /// the objective only (default 1).
    /// </summary>
    public static LossTerms Terms(Tensor x, VaeOutput output, double beta, double reconstructionWeight = 1)
    {
        var xhat = output.Reconstruction.to_type(ScalarType.Float32);
        var target = x.to_type(ScalarType.Float32);
        var mu = output.Mu.to_type(ScalarType.Float32);
        var logVar = output.LogVar.to_type(ScalarType.Float32);
        long perImage = target.numel() / target.shape[0];
        var recon = (target - xhat).square().flatten(1).sum(1).mean();
        var kl = (-0.5 * (1 + logVar - mu.square() - logVar.exp()).sum(1)).mean();
        var loss = recon + beta * kl;
        var mse = recon / perImage;
        var objective = reconstructionWeight == 1 ? loss : recon * reconstructionWeight + beta * kl;
        return new LossTerms(objective, new Dictionary<string, Tensor>
        {
            ["loss"] = loss, ["reconstruction"] = recon, ["kl"] = kl, ["mse_per_pixel"] = mse,
            ["psnr"] = Imaging.Psnr.FromMse(mse),
        });
    }

    /// <summary>Latents z ~ N(0, I) of shape [count, L] from a seeded generator (the global RNG is left alone).</summary>
    public static Tensor PriorLatents(int count, int latent, long seed)
    {
        using var gen = new Generator((ulong)seed);
        return randn([count, latent], generator: gen);
    }

    /// <summary>Prior samples of a VAE: images <c>Start .. Start + Count</c> decoded from <see cref="PriorLatents"/> of the
    /// seed (so <c>hypha sample --seed S</c> and <c>hypha evaluate --seed S</c> draw the same latents), in batches.</summary>
    public static Tensor SamplePrior(IEncoderModel model, SampleRequest request)
    {
        model.RefuseSettings(request.Settings);
        using var all = PriorLatents(request.Start + request.Count, model.LatentSize, request.Seed);
        using var z = all.narrow(0, request.Start, request.Count);
        return DecodeBatches(model, z, request.Device, request.Batch, request.Progress);
    }

    /// <summary>What a VAE's <see cref="IGenerativeModel.DescribeSampler"/> says: <c>prior</c> (z ~ N(0, I), decoded);
    /// it takes no sampler settings and refuses them by name.</summary>
    public static string DescribePrior(IEncoderModel model, SamplerSettings settings)
    {
        model.RefuseSettings(settings);
        return "prior";
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
