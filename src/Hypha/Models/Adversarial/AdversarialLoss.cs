using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.Adversarial;

/// <summary>The game between a VAE (the generator of reconstructions) and its patch discriminator.</summary>
public enum AdversarialLoss
{
    /// <summary>No discriminator (default; the thesis).</summary>
    None,
    /// <summary>Hinge loss (Lim and Ye 2017; VQGAN, latent diffusion's AutoencoderKL).</summary>
    Hinge,
    /// <summary>Least squares (LSGAN, Mao et al. 2017, targets 1 real and 0 fake; MONAI's PatchAdversarialLoss).</summary>
    LeastSquares,
}

/// <summary>How the adversarial term is weighted against the reconstruction.</summary>
public enum AdversarialWeighting
{
    /// <summary>VQGAN's adaptive weight: the factor times ||grad of the reconstruction loss|| / ||grad of the
    /// adversarial loss||, both at the decoder's last layer (default).</summary>
    Adaptive,
    /// <summary>A fixed factor, per pixel as the summed reconstruction.</summary>
    Fixed,
}

/// <summary>
/// The adversarial formulas, on discriminator logits [B, 1, h, w] (one per patch), each averaged over patches and
/// batch:
/// <list type="bullet">
/// <item>hinge: discriminator 0.5 (mean relu(1 - D(x)) + mean relu(1 + D(x_hat))), generator -mean D(x_hat);</item>
/// <item>least squares: discriminator 0.5 (mean (D(x) - 1)^2 + mean D(x_hat)^2), generator mean (D(x_hat) - 1)^2.</item>
/// </list>
/// </summary>
public static class AdversarialMath
{
    /// <summary>The discriminator's loss on logits of real chunks and of reconstructions.</summary>
    public static Tensor DiscriminatorLoss(AdversarialLoss kind, Tensor real, Tensor fake) => kind switch
    {
        AdversarialLoss.Hinge => 0.5 * (nn.functional.relu(1 - real).mean() + nn.functional.relu(1 + fake).mean()),
        AdversarialLoss.LeastSquares => 0.5 * ((real - 1).square().mean() + fake.square().mean()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no adversarial loss"),
    };

    /// <summary>The generator's (the VAE's) loss on logits of its reconstructions.</summary>
    public static Tensor GeneratorLoss(AdversarialLoss kind, Tensor fake) => kind switch
    {
        AdversarialLoss.Hinge => -fake.mean(),
        AdversarialLoss.LeastSquares => (fake - 1).square().mean(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no adversarial loss"),
    };

    /// <summary>Upper clamp of the adaptive weight, VQGAN's 1e4.</summary>
    public const double MaxAdaptiveWeight = 1e4;

    /// <summary>
    /// VQGAN's adaptive weight (Esser et al. 2021, taming-transformers' calculate_adaptive_weight):
    /// ||d reconstruction / d w|| / (||d adversarial / d w|| + 1e-4), clamped to [0, 1e4] and detached, where w is the
    /// decoder's last layer's weight; so the adversarial term pulls on the decoder about as hard as the
    /// reconstruction does, whatever their scales. Both gradients are taken with the graph kept for the backward pass
    /// that follows; neither is accumulated into the parameters' gradients.
    /// </summary>
    public static Tensor AdaptiveWeight(Tensor reconstruction, Tensor adversarial, Tensor lastLayer)
    {
        using var scope = NewDisposeScope();
        var rec = Grad(reconstruction, lastLayer);
        var adv = Grad(adversarial, lastLayer);
        using var _ = no_grad();
        var weight = rec.norm() / (adv.norm() + 1e-4);
        return weight.clamp(0, MaxAdaptiveWeight).detach().MoveToOuterDisposeScope();
    }

    static Tensor Grad(Tensor output, Tensor input)
    {
        var g = autograd.grad([output], [input], retain_graph: true, allow_unused: true)[0];
        return g is null || g.IsInvalid ? zeros_like(input) : g.to_type(ScalarType.Float32);
    }
}
