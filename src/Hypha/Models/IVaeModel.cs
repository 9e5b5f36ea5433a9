using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>
/// The small surface every model offers, so that training, sampling and evaluation never switch on the
/// model kind. Implemented by <c>ResNetVae.ResNetVae</c> and the progressive VAE.
/// </summary>
public interface IVaeModel : IDisposable
{
    /// <summary>Image channels in and out (1 gray, 3 rgb).</summary>
    int Channels { get; }

    /// <summary>Side of the square images the model currently takes and produces, in pixels.</summary>
    int Resolution { get; }

    /// <summary>Size of the latent vector.</summary>
    int LatentSize { get; }

    /// <summary>The underlying TorchSharp module (parameters, train/eval mode, device moves, state dict).</summary>
    nn.Module Module { get; }

    /// <summary>Posterior mean and log-variance of a batch [B, C, H, W] in [0, 1].</summary>
    (Tensor Mu, Tensor LogVar) Encode(Tensor x);

    /// <summary>Images [B, C, H, W] in [0, 1] from latents [B, L].</summary>
    Tensor Decode(Tensor z);

    /// <summary>Encode, reparameterize and decode.</summary>
    VaeOutput Forward(Tensor x);

    /// <summary>MSE (summed over pixels) plus <paramref name="beta"/> times KL, each averaged over the batch.</summary>
    LossTerms Loss(Tensor x, VaeOutput output, double beta);
}
