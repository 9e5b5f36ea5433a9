namespace Hypha.Models;

/// <summary>Settings of the thesis's ResNet-18 VAE (<c>resnet_vae</c>); the progressive VAE's record extends it.</summary>
public record VaeOptions : ModelOptions
{
    /// <summary>Channels of the first ResNet stage; the stages use 1x, 2x, 4x and 8x. Default 64 (ResNet-18, the thesis).</summary>
    public int Width { get; init; } = 64;

    /// <summary>
    /// Latent size; default 256. A 224x224 chunk holds 50,176 values; 256 dimensions is the usual ResNet-VAE size at
    /// this resolution, enough for texture and root layout while the KL term keeps unused dimensions at the prior.
    /// </summary>
    public int Latent { get; init; } = 256;

    /// <summary>Weight of the KL term; default 1 (a plain VAE).</summary>
    public double Beta { get; init; } = 1.0;

    /// <summary>Raise the KL weight linearly from 0 to <see cref="Beta"/> over this many training images, so the encoder
    /// starts using its latent before the KL term can switch it off (posterior collapse); 0 (default, the thesis) starts at
    /// full weight. Derived from images seen, so a resumed run continues the ramp where it stopped.</summary>
    public long KlWarmup { get; init; }

    /// <summary>The KL weight after <paramref name="imagesSeen"/> training images.</summary>
    public double BetaAt(long imagesSeen) => KlWarmup <= 0 ? Beta : Beta * Math.Min(1.0, (double)imagesSeen / KlWarmup);

    public override void Validate()
    {
        if (Latent < 1) throw HyphaException.Config($"latent size must be at least 1 (got {Latent})");
        if (Width < 1) throw HyphaException.Config($"model width must be at least 1 (got {Width})");
        if (!(Beta >= 0) || double.IsInfinity(Beta)) throw HyphaException.Config($"beta must be zero or positive (got {Beta})");
        if (KlWarmup < 0) throw HyphaException.Config($"KL warm-up cannot be negative (got {KlWarmup})");
    }

    /// <summary>The command-line settings every VAE family shares.</summary>
    public static IReadOnlyList<ModelSetting> Settings<T>() where T : VaeOptions =>
    [
        ModelSetting.Of<T, int>("width", "Channels of the first ResNet stage (x1, x2, x4, x8 per stage).", o => o.Width, (o, v) => o with { Width = v }),
        ModelSetting.Of<T, int>("latent", "Latent size.", o => o.Latent, (o, v) => o with { Latent = v }),
        ModelSetting.Of<T, double>("beta", "Weight of the KL term.", o => o.Beta, (o, v) => o with { Beta = v }),
        ModelSetting.Of<T, long>("kl-warmup", "Raise the KL weight from 0 to --beta over this many training images (0: full weight from the start, as the thesis).",
            o => o.KlWarmup, (o, v) => o with { KlWarmup = v }),
    ];

    /// <summary>The loss terms every VAE family reports.</summary>
    public static IReadOnlyList<LossTermInfo> Terms { get; } =
    [
        new("loss", "Loss (summed MSE + beta KL) per image",
            "Reconstruction error plus KL per image, training and validation chunks, against training images seen (log scale). Lower is better.", LogScale: true),
        new("reconstruction", "Summed squared error per image", "The reconstruction part of the loss: squared error summed over the pixels of a chunk.", LogScale: true, Plot: false),
        new("kl", "KL divergence per image", "How much information the codes carry beyond the random prior, in nats per image. It usually rises early, then settles."),
        new("mse_per_pixel", "Reconstruction error per pixel", "Mean squared error per pixel on the 0-1 intensity scale (log scale). Lower is better.", LogScale: true, PlotName: "mse"),
        new("psnr", "Reconstruction PSNR", "10 log10(1 / MSE per pixel) of the reconstructions, in dB. Higher is better.", Plot: false),
    ];
}
