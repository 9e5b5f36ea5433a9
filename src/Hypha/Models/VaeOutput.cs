using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>What every Hypha model returns from a forward pass (one output type for all models, as pythae).</summary>
/// <param name="Reconstruction">Decoded images, [B, C, H, W] in [0, 1].</param>
/// <param name="Mu">Posterior means, [B, L].</param>
/// <param name="LogVar">Posterior log-variances, [B, L].</param>
/// <param name="Z">The latent sample that was decoded, [B, L].</param>
public sealed record VaeOutput(Tensor Reconstruction, Tensor Mu, Tensor LogVar, Tensor Z);

/// <summary>The loss terms of one batch, each averaged over the batch.</summary>
/// <param name="Loss">The optimized objective: <c>Reconstruction + Beta * Kl</c>.</param>
/// <param name="Reconstruction">Sum over pixels of the squared error, averaged over the batch.</param>
/// <param name="Kl">KL divergence from the posterior to N(0, I), summed over latent dimensions.</param>
/// <param name="MsePerPixel">Reconstruction divided by the number of values in one image.</param>
public sealed record LossTerms(Tensor Loss, Tensor Reconstruction, Tensor Kl, Tensor MsePerPixel);
