namespace Hypha.Evaluation;

/// <summary>Plain-language explanations of the metrics in <see cref="MetricRegistry.CreateDefault"/>, for the CLI table and the report page.</summary>
public static class MetricGuide
{
    static readonly Dictionary<string, MetricExplanation> Known = new(StringComparer.Ordinal)
    {
        ["psnr"] = new("PSNR (dB)", "How closely reconstructions match their originals, pixel by pixel; the floor pairs unrelated real chunks.", "higher"),
        ["ssim"] = new("SSIM", "Structural similarity of reconstructions to their originals (1 = identical); the floor pairs unrelated real chunks.", "higher"),
        ["iwae_bits_per_dim"] = new("Likelihood (bits/dim)", "Negative log-likelihood of held-out test chunks under the model (IWAE bound); the floor is a model that only knows the mean image.", "lower"),
        ["swd"] = new("SWD (x1e3)", "Sliced Wasserstein distance between small-patch statistics of samples and real chunks, at several scales (texture and edges).", "lower, toward the floor"),
        ["ms_ssim"] = new("MS-SSIM diversity", "Mean similarity between pairs of different samples; far above the floor means the samples look alike (mode collapse).", "close to the floor"),
        ["fd_resnet18"] = new("Fréchet distance (ResNet-18)", "Distance between samples and real chunks in ImageNet ResNet-18 features (not Inception FID; compare only with the floor and other runs).", "lower, toward the floor"),
        ["kid"] = new("KID (ResNet-18)", "Kernel distance between samples and real chunks in ResNet-18 features; unbiased, can be slightly negative.", "lower, toward the floor"),
        ["precision"] = new("Precision", "Fraction of samples that look like some real chunk (fidelity).", "higher"),
        ["recall"] = new("Recall", "Fraction of real chunks the samples come close to (diversity).", "higher"),
        ["density"] = new("Density", "How densely samples sit among real chunks (fidelity, robust to outliers); about 1 when matched.", "higher, about 1"),
        ["coverage"] = new("Coverage", "Fraction of real chunks with a sample nearby (diversity, robust to outliers).", "higher"),
        ["memorization"] = new("Memorization", "Fraction of samples closer to a training chunk than 95% of real unseen chunks are; well above the floor means copying.", "lower, about the floor"),
    };

    /// <summary>The explanation of <paramref name="name"/>; a generic one (direction from <paramref name="higherIsBetter"/>) for metrics not listed.</summary>
    public static MetricExplanation For(string name, bool higherIsBetter) =>
        Known.TryGetValue(name, out var e) ? e : new MetricExplanation(name, "", higherIsBetter ? "higher" : "lower");
}
