using Hypha.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// Importance-weighted log-likelihood bound (Burda et al. 2016) of a VAE with a Gaussian decoder of fixed variance:
/// log p(x) &gt;= E[log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x)], z_k ~ q(z|x) = N(mu, exp(logvar)), p(z) = N(0, I),
/// p(x|z) = N(x; Decode(z), sigma^2 I). K = 1 is the ELBO; the bound tightens (rises) as K grows.
/// </summary>
public static class Iwae
{
    /// <summary>
    /// Default decoder standard deviation, sqrt(1/2): the variance under which the Hypha loss (summed squared
    /// error + KL, beta 1) is exactly the negative ELBO up to a constant.
    /// </summary>
    public static readonly double DefaultSigma = Math.Sqrt(0.5);

    /// <summary>
    /// Log importance weights [N, K] (float64) of images x [N, C, H, W]. Draws K latents per image from
    /// <paramref name="generator"/>; decodes at most <paramref name="decodeBatch"/> latents at a time. Runs under
    /// no_grad with the module in eval mode (its mode is restored).
    /// </summary>
    public static Tensor LogWeights(ILikelihoodModel model, Tensor x, int k, double sigma, Generator generator,
        int imageBatch = 16, int decodeBatch = 256)
    {
        var wasTraining = model.Module.training;
        model.Module.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var device = model.Module.parameters().FirstOrDefault()?.device ?? CPU;
            var d = x.shape[1] * x.shape[2] * x.shape[3];
            var logNorm = d * (Math.Log(sigma) + 0.5 * Math.Log(2 * Math.PI));
            var rows = new List<Tensor>();
            for (long s = 0; s < x.shape[0]; s += imageBatch)
            {
                using var inner = NewDisposeScope();
                var xb = x[(int)s..(int)Math.Min(s + imageBatch, x.shape[0])].to(device);
                var b = xb.shape[0];
                var (mu, logvar) = model.Encode(xb);
                var l = mu.shape[1];
                var eps = randn([b, k, l], dtype: float32, generator: generator).to(device);
                var z = mu.unsqueeze(1) + (0.5 * logvar).exp().unsqueeze(1) * eps;          // [B, K, L]
                var flat = z.reshape(b * k, l);
                var recon = new List<Tensor>();
                for (long t = 0; t < b * k; t += decodeBatch)
                    recon.Add(model.Decode(flat[(int)t..(int)Math.Min(t + decodeBatch, b * k)]).to(float64));
                var xhat = cat(recon, 0).reshape(b, k, -1);
                var target = xb.to(float64).reshape(b, 1, -1);
                var logPx = -0.5 * (target - xhat).square().sum(2) / (sigma * sigma) - logNorm;
                var halfLog2Pi = 0.5 * Math.Log(2 * Math.PI) * l;
                var logPz = -0.5 * z.to(float64).square().sum(2) - halfLog2Pi;
                var logQ = -0.5 * eps.to(float64).square().sum(2) - 0.5 * logvar.to(float64).sum(1, keepdim: true) - halfLog2Pi;
                rows.Add((logPx + logPz - logQ).cpu().MoveToOuterDisposeScope());
            }
            return cat(rows, 0).MoveToOuterDisposeScope();
        }
        finally
        {
            model.Module.train(wasTraining);
        }
    }

    /// <summary>Mean over images of the K-sample bound log (1/K) sum_k w_k, from the first <paramref name="k"/> columns of log weights [N, K'] (nats per image).</summary>
    public static double Bound(Tensor logWeights, int k)
    {
        using var scope = NewDisposeScope();
        var lw = logWeights[.., ..k];
        return (logsumexp(lw, 1) - Math.Log(k)).mean().item<double>();
    }

    /// <summary>Negative log-likelihood in nats per image converted to bits per dimension.</summary>
    public static double BitsPerDim(double nllNats, long dims) => nllNats / (dims * Math.Log(2));

    /// <summary>
    /// Exact negative log-likelihood (nats per image, mean over <paramref name="x"/>) of the "mean image" model
    /// N(mean, sigma^2 I): the baseline iwae_bits_per_dim reports as floor.
    /// </summary>
    public static double MeanImageNll(Tensor mean, Tensor x, double sigma)
    {
        using var scope = NewDisposeScope();
        var d = x.shape[1] * x.shape[2] * x.shape[3];
        var sq = (x.to(float64) - mean.to(float64)).square().sum([1, 2, 3]);
        return (0.5 * sq / (sigma * sigma)).mean().item<double>() + d * (Math.Log(sigma) + 0.5 * Math.Log(2 * Math.PI));
    }
}
