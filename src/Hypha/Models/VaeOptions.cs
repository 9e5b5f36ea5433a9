using Hypha.Data;
using Hypha.Models.Adversarial;

namespace Hypha.Models;

/// <summary>How a VAE measures the reconstruction error of a chunk.</summary>
public enum ReconstructionLoss
{
    /// <summary>Squared error summed over the pixels (default; the thesis).</summary>
    Mse,
    /// <summary>Absolute error summed over the pixels (the AutoencoderKL of latent diffusion, MONAI's LDM tutorial):
    /// less forgiving of small errors everywhere, so fine structure is not averaged away as readily.</summary>
    L1,
}

/// <summary>
/// Settings of the thesis's ResNet-18 VAE (<c>resnet_vae</c>); the progressive VAE's record extends it. Besides shape
/// and KL weight it holds the sharper losses of issue 12, all off by default (the thesis's summed MSE + beta KL): an L1
/// reconstruction, a perceptual term on ImageNet ResNet-18 features, and a PatchGAN-style adversarial term.
/// Configurations written before these settings existed load with them at these defaults.
/// </summary>
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

    /// <summary>Reconstruction error; default <see cref="ReconstructionLoss.Mse"/> (the thesis).</summary>
    public ReconstructionLoss Reconstruction { get; init; } = ReconstructionLoss.Mse;

    /// <summary>Weight of the perceptual term (<see cref="Perceptual.ResNet18Perceptual"/>: LPIPS-style distance between
    /// ImageNet ResNet-18 features of the reconstruction and the chunk, without LPIPS's learned heads), per pixel like
    /// the summed reconstruction: the objective adds weight x pixels per chunk x distance. Default 0 (off; the thesis).
    /// 1 is latent diffusion's AutoencoderKL setting.</summary>
    public double PerceptualWeight { get; init; }

    /// <summary>ResNet-18 stages whose features the perceptual term compares: 0 the stem (1/2 side), 1-4 stages
    /// conv2_x..conv5_x (1/4..1/32). Default all five, as LPIPS taps five layers.</summary>
    public int[] PerceptualStages { get; init; } = [0, 1, 2, 3, 4];

    /// <summary>Adversarial loss of the patch discriminator; default <see cref="AdversarialLoss.None"/> (off; the thesis).</summary>
    public AdversarialLoss Adversarial { get; init; } = AdversarialLoss.None;

    /// <summary>Channels of the discriminator's first layer (doubled per stride-2 layer, at most 8x); default 64 (pix2pix's ndf).</summary>
    public int DiscWidth { get; init; } = 64;

    /// <summary>Stride-2 layers of the discriminator (pix2pix's n_layers); default 3 (70x70 receptive field). Each output
    /// logit judges one patch of the chunk.</summary>
    public int DiscLayers { get; init; } = 3;

    /// <summary>Training images shown before the discriminator and the adversarial term switch on, so that the VAE
    /// first learns to reconstruct; default 0 (from the start). Derived from images seen, so a resumed run switches at
    /// the same image.</summary>
    public long DiscStart { get; init; }

    /// <summary>How the adversarial term is weighted; default <see cref="AdversarialWeighting.Adaptive"/> (VQGAN).</summary>
    public AdversarialWeighting AdvWeighting { get; init; } = AdversarialWeighting.Adaptive;

    /// <summary>The adversarial term's factor; default 0.5 (latent diffusion's AutoencoderKL). Adaptive: it multiplies
    /// VQGAN's ratio of gradient norms at the decoder's last layer. Fixed: it is per pixel, like the summed
    /// reconstruction (the term is factor x pixels per chunk x the mean patch loss; MONAI's LDM tutorial uses 0.01 on
    /// this scale).</summary>
    public double AdvWeight { get; init; } = 0.5;

    /// <summary>Adam learning rate of the discriminator (betas 0.5, 0.9 as VQGAN); default 0: the run's --lr. It follows
    /// the run's learning-rate schedule.</summary>
    public double DiscLr { get; init; }

    /// <summary>Flips or rotations applied to everything the discriminator sees, real and reconstructed, in both its own
    /// and the VAE's step (DiffAugment with the dihedral group: the discriminator cannot win by remembering
    /// orientations); default <see cref="Augment.None"/>.</summary>
    public Augment DiscAugment { get; init; } = Augment.None;

    /// <summary>True when a perceptual term is part of the loss.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool UsesPerceptual => PerceptualWeight > 0;

    /// <summary>True when a discriminator is trained.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool UsesAdversarial => Adversarial != AdversarialLoss.None;

    /// <summary>Value equality, the stage list compared by its elements (a record compares arrays by reference).</summary>
    public virtual bool Equals(VaeOptions? other) =>
        other is not null && EqualityContract == other.EqualityContract && Width == other.Width && Latent == other.Latent &&
        Beta.Equals(other.Beta) && KlWarmup == other.KlWarmup && Reconstruction == other.Reconstruction &&
        PerceptualWeight.Equals(other.PerceptualWeight) && PerceptualStages.SequenceEqual(other.PerceptualStages) &&
        Adversarial == other.Adversarial && DiscWidth == other.DiscWidth && DiscLayers == other.DiscLayers && DiscStart == other.DiscStart &&
        AdvWeighting == other.AdvWeighting && AdvWeight.Equals(other.AdvWeight) && DiscLr.Equals(other.DiscLr) && DiscAugment == other.DiscAugment;

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(EqualityContract);
        h.Add(Width);
        h.Add(Latent);
        h.Add(Beta);
        h.Add(KlWarmup);
        h.Add(Reconstruction);
        h.Add(PerceptualWeight);
        foreach (var s in PerceptualStages) h.Add(s);
        h.Add(Adversarial);
        h.Add(DiscWidth);
        h.Add(DiscLayers);
        h.Add(DiscStart);
        h.Add(AdvWeighting);
        h.Add(AdvWeight);
        h.Add(DiscLr);
        h.Add(DiscAugment);
        return h.ToHashCode();
    }

    /// <summary>The KL weight after <paramref name="imagesSeen"/> training images.</summary>
    public double BetaAt(long imagesSeen) => KlWarmup <= 0 ? Beta : Beta * Math.Min(1.0, (double)imagesSeen / KlWarmup);

    public override void Validate()
    {
        if (Latent < 1) throw HyphaException.Config($"latent size must be at least 1 (got {Latent})");
        if (Width < 1) throw HyphaException.Config($"model width must be at least 1 (got {Width})");
        if (!(Beta >= 0) || double.IsInfinity(Beta)) throw HyphaException.Config($"beta must be zero or positive (got {Beta})");
        if (KlWarmup < 0) throw HyphaException.Config($"KL warm-up cannot be negative (got {KlWarmup})");
        if (!(PerceptualWeight >= 0) || double.IsInfinity(PerceptualWeight))
            throw HyphaException.Config($"perceptual weight must be zero or positive (got {PerceptualWeight})");
        if (PerceptualStages is null || PerceptualStages.Length == 0 || PerceptualStages.Any(s => s < 0 || s >= Perceptual.ResNet18Perceptual.StageCount)
            || PerceptualStages.Distinct().Count() != PerceptualStages.Length)
            throw HyphaException.Config($"perceptual stages must be distinct numbers from 0 to {Perceptual.ResNet18Perceptual.StageCount - 1} (got {string.Join(",", PerceptualStages ?? [])})");
        if (DiscWidth < 1) throw HyphaException.Config($"discriminator width must be at least 1 (got {DiscWidth})");
        if (DiscLayers is < 1 or > 8) throw HyphaException.Config($"discriminator layers must be 1 to 8 (got {DiscLayers})");
        if (DiscStart < 0) throw HyphaException.Config($"discriminator start cannot be negative (got {DiscStart})");
        if (!(AdvWeight >= 0) || double.IsInfinity(AdvWeight)) throw HyphaException.Config($"adversarial weight must be zero or positive (got {AdvWeight})");
        if (!(DiscLr >= 0) || double.IsInfinity(DiscLr)) throw HyphaException.Config($"discriminator learning rate must be zero (the run's) or positive (got {DiscLr})");
    }

    /// <summary>Checks, before any work, that chunks of side <paramref name="chunk"/> fit the discriminator (it works at
    /// the chunk size, a progressive model's early stages upsampled to it) and that the perceptual term's ResNet-18
    /// files are there: a configuration error naming the sizes it needs or the missing file.</summary>
    public void ValidateLossShape(int chunk)
    {
        if (UsesPerceptual) Perceptual.ResNet18Perceptual.EnsureFiles();
        if (UsesAdversarial && PatchDiscriminator.OutputSide(chunk, DiscLayers) < 1)
            throw HyphaException.Config(
                $"chunk size {chunk} is too small for a discriminator of {DiscLayers} stride-2 layers: it needs at least {PatchDiscriminator.MinimumSide(DiscLayers)} (or lower --disc-layers)");
    }

    /// <summary>The command-line settings every VAE family shares.</summary>
    public static IReadOnlyList<ModelSetting> Settings<T>() where T : VaeOptions =>
    [
        ModelSetting.Of<T, int>("width", "Channels of the first ResNet stage (x1, x2, x4, x8 per stage).", o => o.Width, (o, v) => o with { Width = v }),
        ModelSetting.Of<T, int>("latent", "Latent size.", o => o.Latent, (o, v) => o with { Latent = v }),
        ModelSetting.Of<T, double>("beta", "Weight of the KL term.", o => o.Beta, (o, v) => o with { Beta = v }),
        ModelSetting.Of<T, long>("kl-warmup", "Raise the KL weight from 0 to --beta over this many training images (0: full weight from the start, as the thesis).",
            o => o.KlWarmup, (o, v) => o with { KlWarmup = v }),
        ModelSetting.Of<T, ReconstructionLoss>("reconstruction", "Reconstruction error summed over the pixels: mse (squared, the thesis) or l1 (absolute).",
            o => o.Reconstruction, (o, v) => o with { Reconstruction = v }),
        ModelSetting.Of<T, double>("perceptual-weight", "Weight of the perceptual term (ImageNet ResNet-18 feature distance, LPIPS without learned heads), per pixel as the reconstruction (0: off).",
            o => o.PerceptualWeight, (o, v) => o with { PerceptualWeight = v }),
        ModelSetting.Of<T, int[]>("perceptual-stages", "ResNet-18 stages the perceptual term compares: 0 stem, 1-4 conv2_x..conv5_x.",
            o => o.PerceptualStages, (o, v) => o with { PerceptualStages = v }),
        ModelSetting.Of<T, AdversarialLoss>("adversarial", "Patch discriminator loss: none (off), hinge, or least-squares.",
            o => o.Adversarial, (o, v) => o with { Adversarial = v }),
        ModelSetting.Of<T, int>("disc-width", "Channels of the discriminator's first layer (x2 per stride-2 layer, at most x8).",
            o => o.DiscWidth, (o, v) => o with { DiscWidth = v }),
        ModelSetting.Of<T, int>("disc-layers", "Stride-2 layers of the patch discriminator (3: 70-pixel patches; 2: 34).",
            o => o.DiscLayers, (o, v) => o with { DiscLayers = v }),
        ModelSetting.Of<T, long>("disc-start", "Training images before the discriminator and the adversarial term switch on.",
            o => o.DiscStart, (o, v) => o with { DiscStart = v }),
        ModelSetting.Of<T, AdversarialWeighting>("adv-weighting", "adaptive: --adv-weight x the ratio of gradient norms at the decoder's last layer (VQGAN); fixed: --adv-weight per pixel.",
            o => o.AdvWeighting, (o, v) => o with { AdvWeighting = v }),
        ModelSetting.Of<T, double>("adv-weight", "Factor of the adversarial term (see --adv-weighting).",
            o => o.AdvWeight, (o, v) => o with { AdvWeight = v }),
        ModelSetting.Of<T, double>("disc-lr", "Adam learning rate of the discriminator, betas 0.5/0.9 (0: the run's --lr).",
            o => o.DiscLr, (o, v) => o with { DiscLr = v }),
        ModelSetting.Of<T, Augment>("disc-augment", "Flips or rotations of everything the discriminator sees (DiffAugment): none, flips, dihedral.",
            o => o.DiscAugment, (o, v) => o with { DiscAugment = v }),
    ];

    /// <summary>The loss terms every VAE family can report (<see cref="TermsFor"/> picks a run's).</summary>
    public static IReadOnlyList<LossTermInfo> Terms { get; } = TermsOf(new VaeOptions { PerceptualWeight = 1, Adversarial = AdversarialLoss.Hinge });

    /// <summary>The terms a VAE with <paramref name="options"/> reports: loss, reconstruction, KL, MSE and PSNR always;
    /// perceptual with a perceptual term; the adversarial terms with a discriminator (training rows only: validation
    /// scores reconstruction, and the discriminator terms start at <see cref="DiscStart"/>).</summary>
    public static IReadOnlyList<LossTermInfo> TermsFor(ModelOptions options) =>
        options is VaeOptions o ? TermsOf(o) : Terms;

    static List<LossTermInfo> TermsOf(VaeOptions o)
    {
        var error = o.Reconstruction == ReconstructionLoss.L1 ? "absolute" : "squared";
        var parts = (o.Reconstruction == ReconstructionLoss.L1 ? "summed L1" : "summed MSE") + " + beta KL" + (o.UsesPerceptual ? " + perceptual" : "");
        var terms = new List<LossTermInfo>
        {
            new("loss", $"Loss ({parts}) per image",
                "Reconstruction error plus KL per image" + (o.UsesPerceptual ? " plus the weighted perceptual term" : "") +
                (o.UsesAdversarial ? " (the adversarial term is left out, so training and validation compare)" : "") +
                ", training and validation chunks, against training images seen (log scale). Lower is better.", LogScale: true),
            new("reconstruction", $"Summed {error} error per image", $"The reconstruction part of the loss: {error} error summed over the pixels of a chunk.", LogScale: true, Plot: false),
            new("kl", "KL divergence per image", "How much information the codes carry beyond the random prior, in nats per image. It usually rises early, then settles."),
            new("mse_per_pixel", "Reconstruction error per pixel", "Mean squared error per pixel on the 0-1 intensity scale (log scale). Lower is better.", LogScale: true, PlotName: "mse"),
            new("psnr", "Reconstruction PSNR", "10 log10(1 / MSE per pixel) of the reconstructions, in dB. Higher is better.", Plot: false),
        };
        if (o.UsesPerceptual)
            terms.Add(new("perceptual", "Perceptual distance per image",
                "Distance between ImageNet ResNet-18 features of the reconstruction and the chunk (LPIPS without learned heads; unweighted). Lower is better."));
        if (o.UsesAdversarial)
            terms.AddRange(
            [
                new("adversarial", "Adversarial (generator) loss",
                    "How far the discriminator finds the reconstructions from real chunks, the VAE's side of the game (unweighted mean over patches). It should hover, not fall to its minimum."),
                new("adv_weight", "Adversarial weight",
                    "The weight the adversarial term enters the objective with: adaptive, the ratio of gradient norms at the decoder's last layer times the factor; fixed, the factor times the pixels. 0 before the discriminator starts."),
                new("discriminator", "Discriminator loss",
                    "The discriminator's own loss on real chunks and reconstructions. Near its chance level (hinge 1, least squares 0.25 with these scales) neither side is winning; near 0 it wins every patch."),
                new("d_real", "Discriminator score of real chunks", "Mean patch logit of real chunks (higher: judged real).", Plot: false),
                new("d_fake", "Discriminator score of reconstructions", "Mean patch logit of reconstructions (lower: judged fake).", Plot: false),
            ]);
        return terms;
    }
}
