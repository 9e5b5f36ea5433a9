using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>The Gaussian VAE pieces every model shares: reparameterization and the MSE + beta KL loss.</summary>
public static class VaeMath
{
    /// <summary>z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) from torch's default generator.</summary>
    public static Tensor Reparameterize(Tensor mu, Tensor logVar) =>
        mu + (0.5 * logVar).exp() * randn_like(mu);

    /// <summary>Summed squared error per image plus beta times KL to N(0, I), both averaged over the batch,
    /// computed in float32 whatever the model's precision.</summary>
    public static LossTerms Loss(Tensor x, VaeOutput output, double beta)
    {
        var xhat = output.Reconstruction.to_type(ScalarType.Float32);
        var target = x.to_type(ScalarType.Float32);
        var mu = output.Mu.to_type(ScalarType.Float32);
        var logVar = output.LogVar.to_type(ScalarType.Float32);
        long perImage = target.numel() / target.shape[0];
        var recon = (target - xhat).square().flatten(1).sum(1).mean();
        var kl = (-0.5 * (1 + logVar - mu.square() - logVar.exp()).sum(1)).mean();
        var loss = recon + beta * kl;
        return new LossTerms(loss, recon, kl, recon / perImage);
    }
}
