namespace Hypha.Models;

/// <summary>Which model to train.</summary>
public enum ModelKind
{
    /// <summary>The thesis's ResNet-18 VAE (section 3.3).</summary>
    ResnetVae,

    /// <summary>The thesis's progressive VAE (section 3.4): the ResNet-18 VAE grown from 7x7 to the chunk size.</summary>
    Provae,
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

    /// <summary>Progressive VAE settings (<see cref="ModelKind.Provae"/> only); null (default, left out of config.json)
    /// means the defaults of <see cref="ProgressiveVae.ProgressiveOptions"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ProgressiveVae.ProgressiveOptions? Progressive { get; init; }

    /// <summary>The progressive settings in force: <see cref="Progressive"/> or the defaults.</summary>
    public ProgressiveVae.ProgressiveOptions ProgressiveOrDefault() => Progressive ?? new();

    public void Validate()
    {
        if (Latent < 1) throw HyphaException.Config($"latent size must be at least 1 (got {Latent})");
        if (Width < 1) throw HyphaException.Config($"model width must be at least 1 (got {Width})");
        Progressive?.Validate();
    }
}
