using Hypha.Data;
using Hypha.Models;
using Hypha.Models.Diffusion;
using Hypha.Models.ProgressiveVae;
using Hypha.Training;

namespace Hypha.Runs;

/// <summary>Named starting points for a run's configuration; every option given on the command line overrides them.</summary>
public static class Presets
{
    /// <summary>The thesis: 224 chunks at stride 16, ResNet-18 width 64, latent 256, Adam 5e-4, 90 epochs.</summary>
    public static RunConfig Thesis { get; } = new()
    {
        Preset = "thesis",
        Data = new DataOptions { Chunk = 224, Stride = 16 },
        Model = new VaeOptions { Width = 64, Latent = 256 },
        Train = new TrainOptions { Epochs = 90, Batch = 64, Lr = 5e-4 },
    };

    /// <summary>
    /// Small enough for a laptop or a 2-core CI machine: 64 chunks at stride 16, a quarter-width ResNet-18 (16..128
    /// channels), latent 64, batches of 16 for many steps at lr 2e-3, a KL warm-up over the first 4,096 images,
    /// 30 epochs of 2,048 chunks, and percentile normalization (the thesis's standardization turns dark roots solid
    /// black). <c>hypha demo</c> uses it.
    /// </summary>
    public static RunConfig Cpu { get; } = new()
    {
        Preset = "cpu",
        Data = new DataOptions { Chunk = 64, Stride = 16, Normalize = Imaging.NormalizeMode.Percentile },
        Model = new VaeOptions { Width = 16, Latent = 64, KlWarmup = 4096 },
        Train = new TrainOptions { Epochs = 30, Batch = 16, Lr = 2e-3, EpochSize = 2048, ValLimit = 256 },
    };

    /// <summary>
    /// The cpu preset with the sharper losses of issue 12 (docs/model-resnet-vae.md): summed L1 reconstruction, the
    /// perceptual term at weight 0.1 on ResNet-18 stages 0-2 (the stem and the first two stages: fine structure at a
    /// third of the cost of all five, bench/README.md), and a hinge patch discriminator of width 16 and 2 stride-2
    /// layers (34-pixel patches of the 64-pixel chunks) from 30,720 images on (half the run: switched on early, while
    /// reconstructions were still blurred, it made them worse in docs/evaluation-amf.md's ablation, and VQGAN starts
    /// its discriminator only once the autoencoder has converged), weighted adaptively (VQGAN, factor 0.5) and shown
    /// dihedral copies (DiffAugment). Once the discriminator runs a step costs 4-5x a cpu step (measured on one thread).
    /// </summary>
    public static RunConfig CpuSharp { get; } = Cpu with
    {
        Preset = "cpu-sharp",
        Model = (VaeOptions)Cpu.Model with
        {
            Reconstruction = ReconstructionLoss.L1, PerceptualWeight = 0.1, PerceptualStages = [0, 1, 2],
            Adversarial = Models.Adversarial.AdversarialLoss.Hinge, DiscWidth = 16, DiscLayers = 2, DiscStart = 30720, DiscAugment = Augment.Dihedral,
        },
    };

    /// <summary>
    /// Latent diffusion's KL autoencoder on a CPU (docs/model-autoencoder-kl.md): the cpu preset's data, an
    /// <c>autoencoder_kl</c> of width 16, multipliers 1,2,4 and 4 latent channels (a 64 chunk becomes 4 x 16 x 16),
    /// summed L1 and the perceptual term at 0.1 on ResNet-18 stages 0-2 (cpu-sharp's), a KL weight of 1e-4 instead of 1
    /// (with a latent image the KL term is not what samples are drawn by: a prior is fitted afterwards, as latent
    /// diffusion fits its U-Net, so it only has to keep the latents bounded), dihedral augmentation, batch 16, Adam 5e-4
    /// (a quarter of the cpu preset's 2e-3, which was tuned for its batch-norm ResNet; chosen, not tuned) and 6 epochs of
    /// 2,048 chunks (12,288 images: validation PSNR had reached 30 dB by then, about 10 minutes on 2 idle cores). No
    /// discriminator: cpu-sharp's, switched on at 16,384 images, cost 7 dB of PSNR and doubled FD in the measured run
    /// (docs/evaluation-amf.md). Sample it with <c>fit-prior --sampler latent-diffusion</c> (a U-Net on the latents).
    /// </summary>
    public static RunConfig AutoencoderKlCpu { get; } = Cpu with
    {
        Preset = "autoencoder-kl-cpu",
        Model = new Models.AutoencoderKl.AutoencoderKlOptions
        {
            Beta = 1e-4, KlWarmup = 0, Reconstruction = ReconstructionLoss.L1, PerceptualWeight = 0.1, PerceptualStages = [0, 1, 2],
        },
        Train = Cpu.Train with { Lr = 5e-4, Augment = Augment.Dihedral, Epochs = 6 },
    };

    /// <summary>
    /// The thesis's progressive VAE (section 3.4): 224 chunks at stride 16, width 64, latent 256, grown from 7x7 over six
    /// stages of 30 epochs each (180 epochs), Adam 5e-4, equalized learning rate and pixel norm on.
    /// </summary>
    public static RunConfig Provae { get; } = new()
    {
        Preset = "provae",
        Data = new DataOptions { Chunk = 224, Stride = 16 },
        Model = new ProVaeOptions { Width = 64, Latent = 256, Progressive = new() { EpochsPerStage = 30 } },
        Train = new TrainOptions { Epochs = 180, Batch = 64, Lr = 5e-4 },
    };

    /// <summary>
    /// The progressive VAE on a CPU: 56 chunks at stride 16 (stages 7, 14, 28, 56), width 16, latent 128, 3 epochs per
    /// stage (12 epochs) of 2,048 chunks, batch 32, Adam 1e-3 (as the cpu preset). Batch norm and no equalized learning
    /// rate: with the thesis's pixel norm the posterior collapsed in CPU-sized runs (docs/provae.md).
    /// </summary>
    public static RunConfig ProvaeCpu { get; } = new()
    {
        Preset = "provae-cpu",
        Data = new DataOptions { Chunk = 56, Stride = 16 },
        Model = new ProVaeOptions { Width = 16, Latent = 128, Progressive = new() { EpochsPerStage = 3, PixelNorm = false, EqualizedLr = false } },
        Train = new TrainOptions { Epochs = 12, Batch = 32, Lr = 1e-3, EpochSize = 2048, ValLimit = 256 },
    };

    /// <summary>
    /// The diffusion model on a CPU: 64 chunks at stride 16 with percentile normalization (as cpu), the default U-Net
    /// (width 16, channel multipliers 1,2,2,4, two residual blocks per level, attention at 8x8: about 1.1 M parameters),
    /// v-prediction on a cosine schedule, EMA 0.999, batch 32, Adam 5e-4 with the gradient norm clipped at 1 (as DDPM
    /// implementations do), dihedral augmentation (microscopy has no preferred orientation: 8x the distinct chunks), 5
    /// epochs of 8,192 chunks (a preview grid and a validation pass each): 41,000 images, about 17 minutes at the 39
    /// img/s measured on 2 cores (bench/README.md), and about 3 more for <c>hypha evaluate</c>'s 345 samples, so that
    /// both fit in about 20 minutes (an estimate from those speeds, not timed end to end). <c>hypha demo --model
    /// diffusion</c> uses it. What it reaches at such a budget: docs/evaluation-amf.md.
    /// </summary>
    public static RunConfig DiffusionCpu { get; } = new()
    {
        Preset = "diffusion-cpu",
        Data = new DataOptions { Chunk = 64, Stride = 16, Normalize = Imaging.NormalizeMode.Percentile },
        Model = new DiffusionOptions(),
        Train = new TrainOptions { Epochs = 5, Batch = 32, Lr = 5e-4, GradClip = 1, EpochSize = 8192, ValLimit = 256, Augment = Augment.Dihedral },
    };

    /// <summary>
    /// The diffusion model on a GPU: 128 chunks at stride 16, width 64 with channel multipliers 1,2,2,4,4 (five levels,
    /// 128 down to 8) and attention at 16 and 8, EMA 0.9999, batch 64, Adam 2e-4 (DDPM's), gradient clip 1, dihedral
    /// augmentation, 100 epochs. 128 rather than the thesis's 224: a U-Net's cost grows with the pixels and its
    /// attention with their square, 128 already holds a root's width and its hyphae, and whole micrographs come from
    /// joint denoising of overlapping chunks rather than from bigger ones. Not yet run on a GPU (docs/gpu.md).
    /// </summary>
    public static RunConfig Diffusion { get; } = new()
    {
        Preset = "diffusion",
        Data = new DataOptions { Chunk = 128, Stride = 16, Normalize = Imaging.NormalizeMode.Percentile },
        Model = new DiffusionOptions { Width = 64, ChannelMult = [1, 2, 2, 4, 4], AttentionResolutions = [16, 8], EmaDecay = 0.9999 },
        Train = new TrainOptions { Epochs = 100, Batch = 64, Lr = 2e-4, GradClip = 1, Augment = Augment.Dihedral },
    };

    public static IReadOnlyDictionary<string, RunConfig> All { get; } = new Dictionary<string, RunConfig>
    {
        ["thesis"] = Thesis,
        ["cpu"] = Cpu,
        ["cpu-sharp"] = CpuSharp,
        ["autoencoder-kl-cpu"] = AutoencoderKlCpu,
        ["provae"] = Provae,
        ["provae-cpu"] = ProvaeCpu,
        ["diffusion"] = Diffusion,
        ["diffusion-cpu"] = DiffusionCpu,
    };

    /// <summary>Every preset as "name (chunk, model, epochs)", for help texts.</summary>
    public static string Describe() => string.Join(", ", All.Select(kv =>
        $"{kv.Key} ({kv.Value.Data.Chunk} chunks, {kv.Value.Model.Kind} {kv.Value.Model.Descriptor.Architecture(kv.Value.Model)}, {kv.Value.Train.Epochs} epochs)"));

    public static RunConfig Get(string name) =>
        All.TryGetValue(name.Trim().ToLowerInvariant(), out var preset)
            ? preset
            : throw HyphaException.Config($"unknown preset '{name}': choose one of {string.Join(", ", All.Keys)}");
}
