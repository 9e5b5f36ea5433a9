namespace Hypha.Models;

/// <summary>Which model to train.</summary>
public enum ModelKind
{
    /// <summary>The thesis's ResNet-18 VAE (section 3.3).</summary>
    ResnetVae,
}

/// <summary>Model settings shared by all kinds.</summary>
public sealed record ModelOptions
{
    /// <summary>Default <see cref="ModelKind.ResnetVae"/>.</summary>
    public ModelKind Kind { get; init; } = ModelKind.ResnetVae;

    /// <summary>Channels of the first ResNet stage; the stages use 1x, 2x, 4x and 8x. Default 64 (ResNet-18, the thesis).</summary>
    public int Width { get; init; } = 64;

    /// <summary>
    /// Latent size; default 256. A 224x224 chunk holds 50,176 values; 256 dimensions is the usual ResNet-VAE size at
    /// this resolution, enough for texture and root layout while the KL term keeps unused dimensions at the prior.
    /// </summary>
    public int Latent { get; init; } = 256;

    public void Validate()
    {
        if (Latent < 1) throw HyphaException.Config($"latent size must be at least 1 (got {Latent})");
        if (Width < 1) throw HyphaException.Config($"model width must be at least 1 (got {Width})");
    }
}
