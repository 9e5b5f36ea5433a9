using static TorchSharp.torch;

namespace Hypha.Models;

/// <summary>A VAE's forward pass (<see cref="VaeMath.Forward"/>).</summary>
/// <param name="Reconstruction">Decoded images, [B, C, H, W] in [0, 1].</param>
/// <param name="Mu">Posterior means, [B, L].</param>
/// <param name="LogVar">Posterior log-variances, [B, L].</param>
/// <param name="Z">The latent that was decoded, [B, L].</param>
public sealed record VaeOutput(Tensor Reconstruction, Tensor Mu, Tensor LogVar, Tensor Z);
