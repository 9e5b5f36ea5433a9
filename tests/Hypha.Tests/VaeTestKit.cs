using Hypha.Models;
using static TorchSharp.torch;

namespace Hypha.Tests;

/// <summary>The VAE loss terms by name, as tests read them.</summary>
public static class VaeTestKit
{
    extension(LossTerms t)
    {
        public Tensor Loss => t.Reported["loss"];
        public Tensor Reconstruction => t.Reported["reconstruction"];
        public Tensor Kl => t.Reported["kl"];
        public Tensor MsePerPixel => t.Reported["mse_per_pixel"];
    }
}
