using System.CommandLine;
using Hypha.Data;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Training;

namespace Hypha.Cli;

/// <summary>
/// The options that shape a run's configuration. None has a parse-time default: an option left out keeps the
/// preset's value (listed in each description), so presets and flags compose.
/// </summary>
public sealed class RunOptions
{
    public Option<string> Preset { get; } = new("--preset") { Description = "Starting configuration: thesis (224 chunks, width 64, 90 epochs), cpu (64 chunks, width 16, 30 short epochs), provae (224, width 64, 6 stages x 30 epochs) or provae-cpu (56, width 16, 4 stages x 3 short epochs, batch norm). Default: thesis for train, cpu for demo." };
    public Option<string[]> Images { get; } = new("--images") { Description = "Image folders (searched recursively), files or globs (PNG, JPEG, TIFF; 8/16-bit; multi-page).", AllowMultipleArgumentsPerToken = true };
    public Option<int?> Chunk { get; } = new("--chunk") { Description = "Chunk side in pixels; a multiple of 32 for the ResNet-18 VAE, 7 x 2^k (56, 112, 224) for the proVAE. Default: 224 (thesis), 64 (cpu)." };
    public Option<int?> Stride { get; } = new("--stride") { Description = "Pixels between chunk origins, 1..chunk. Default: 16." };
    public Option<double?> MinMean { get; } = new("--min-mean") { Description = "Drop chunks whose mean is below this (black), in [0, 1]. Default: 0.10." };
    public Option<double?> MaxMean { get; } = new("--max-mean") { Description = "Drop chunks whose mean is above this (background), in [0, 1]. Default: 0.85." };
    public Option<NormalizeMode?> Normalize { get; } = EnumOption.Create<NormalizeMode>("--normalize", "standardize: per-image z-score clipped to [-1, 1] then [0, 1] (thesis); percentile: per-image 1st..99.8th percentile to [0, 1] (keeps dark roots). Default: standardize (thesis), percentile (cpu).");
    public Option<double?> PercentileLow { get; } = new("--percentile-low") { Description = "Lower percentile for --normalize percentile. Default: 1." };
    public Option<double?> PercentileHigh { get; } = new("--percentile-high") { Description = "Upper percentile for --normalize percentile. Default: 99.8." };
    public Option<ChannelMode?> Channels { get; } = EnumOption.Create<ChannelMode>("--channels", "gray: luminance (thesis); rgb: keep colour, the model takes and makes 3 channels. Default: gray.");
    public Option<string> Pages { get; } = new("--pages") { Description = "Pages or focal planes of multi-page TIFFs: all, or a list such as 0,2,5-7. Default: all." };
    public Option<SplitMode?> Split { get; } = EnumOption.Create<SplitMode>("--split", "auto: images with >= 5 source files, else regions; images: whole files per part; regions: disjoint bands of each image; chunks: random chunks as the thesis (overlapping chunks leak into the test part). Default: auto.");
    public Option<double?> ValFraction { get; } = new("--val-fraction") { Description = "Share for validation (files, image length or chunks, by split). Default: 0.1." };
    public Option<double?> TestFraction { get; } = new("--test-fraction") { Description = "Share for test. Default: 0.1." };
    public Option<int?> ValCount { get; } = new("--val-count") { Description = "With --split chunks: exact validation chunks (thesis: 1000). Default: 0, use the fraction." };
    public Option<int?> TestCount { get; } = new("--test-count") { Description = "With --split chunks: exact test chunks (thesis: 1000). Default: 0, use the fraction." };
    public Option<BadImagePolicy?> OnBadImage { get; } = EnumOption.Create<BadImagePolicy>("--on-bad-image", "skip: leave unreadable files out and list them; fail: stop before any work. Default: skip.");
    public Option<ModelKind?> Model { get; } = EnumOption.Create<ModelKind>("--model", "Model to train: resnet_vae (ResNet-18 VAE) or provae (progressive VAE). Default: resnet_vae (provae for the provae presets).");
    public Option<int?> Width { get; } = new("--width") { Description = "Channels of the first ResNet stage (x1, x2, x4, x8 per stage). Default: 64 (thesis), 16 (cpu)." };
    public Option<int?> Latent { get; } = new("--latent") { Description = "Latent size. Default: 256 (thesis), 64 (cpu)." };
    public Option<int?> Epochs { get; } = new("--epochs") { Description = "Epochs to train in all (with --resume: may be raised to train longer; proVAE: stages x --epochs-per-stage when left out). Default: 90 (thesis), 30 (cpu)." };
    public Option<int?> Batch { get; } = new("--batch") { Description = "Chunks per step. Default: 64 (thesis), 16 (cpu)." };
    public Option<double?> Lr { get; } = new("--lr") { Description = "Adam learning rate. Default: 5e-4 (thesis), 2e-3 (cpu)." };
    public Option<double?> Beta { get; } = new("--beta") { Description = "Weight of the KL term. Default: 1." };
    public Option<LrSchedule?> LrSchedule { get; } = EnumOption.Create<LrSchedule>("--lr-schedule", "constant (thesis) or cosine decay to 0 over the run. Default: constant.");
    public Option<long?> KlWarmup { get; } = new("--kl-warmup") { Description = "Raise the KL weight from 0 to --beta over this many training images (0: full weight from the start, as the thesis). Default: 0 (thesis), 4096 (cpu)." };
    public Option<int?> Seed { get; } = new("--seed") { Description = "Seed for split, data order, initialization and sampling. Default: 0." };
    public Option<string> Device { get; } = new("--device") { Description = "auto, cpu, cuda or cuda:N. Default: auto (CUDA when available)." };
    public Option<int?> EpochSize { get; } = new("--epoch-size") { Description = "Training chunks per epoch (0: all). Default: 0 (thesis), 2048 (cpu)." };
    public Option<int?> Threads { get; } = new("--threads") { Description = "CPU threads for libtorch (0: all cores). Default: 0." };
    public Option<double?> GradClip { get; } = new("--grad-clip") { Description = "Clip the gradient norm (0: off). Default: 0." };
    public Option<int?> MaxBadSteps { get; } = new("--max-bad-steps") { Description = "Stop after this many NaN/Inf losses in a row (each is skipped). Default: 20." };
    public Option<int?> CheckpointEvery { get; } = new("--checkpoint-every") { Description = "Also checkpoint every N steps inside an epoch (0: epoch ends only). Default: 0." };
    public Option<Precision?> Precision { get; } = EnumOption.Create<Precision>("--precision", "fp32, or bf16: convolutions in bfloat16 on fp32 master weights, batch norm statistics and loss in fp32 (about 2x faster on GPUs and on CPUs with AVX-512 BF16). Default: fp32.");
    public Option<Layout?> Layout { get; } = EnumOption.Create<Layout>("--layout", "auto (channels-last, the faster on CPU and CUDA); nchw; nhwc. Default: auto.");
    public Option<int?> LogEvery { get; } = new("--log-every") { Description = "Write a metrics row every N steps. Default: 20." };
    public Option<int?> EpochsPerStage { get; } = new("--epochs-per-stage") { Description = "proVAE: epochs at each resolution (7, 14, ... up to the chunk); without --epochs, the run trains stages x this. Default: 30 (provae), 3 (provae-cpu)." };
    public Option<long?> FadeImages { get; } = new("--fade-images") { Description = "proVAE: training images over which a new block fades in (alpha 0 to 1); 0: half a stage. Default: 0." };
    public Option<bool?> EqualizedLr { get; } = new("--equalized-lr") { Description = "proVAE: scale weights at run time by He's constant (true/false). Default: true (provae), false (provae-cpu)." };
    public Option<bool?> PixelNorm { get; } = new("--pixel-norm") { Description = "proVAE: pixel normalization instead of batch norm (true/false). Default: true (provae), false (provae-cpu)." };
    public Option<bool?> ScaleReconstruction { get; } = new("--scale-reconstruction") { Description = "proVAE: weight each stage's reconstruction sum by (chunk / resolution)^2, so early stages balance it against KL as the last does (true/false). Default: false (thesis)." };
    public Option<bool?> MinibatchStd { get; } = new("--minibatch-std") { Description = "proVAE: minibatch standard deviation channel before the encoder's last block (true/false). Default: false." };

    public IEnumerable<Option> All => [Preset, Images, Chunk, Stride, MinMean, MaxMean, Normalize, PercentileLow, PercentileHigh, Channels, Pages,
        Split, ValFraction, TestFraction, ValCount, TestCount, OnBadImage, Model, Width, Latent, Epochs, Batch, Lr, LrSchedule, Beta, KlWarmup, Seed, Device,
        EpochSize, Threads, GradClip, MaxBadSteps, CheckpointEvery, Precision, Layout, LogEvery, EpochsPerStage, FadeImages, EqualizedLr, PixelNorm, MinibatchStd,
        ScaleReconstruction];

    public void AddTo(Command command)
    {
        foreach (var o in All) command.Options.Add(o);
    }

    /// <summary>The preset named by --preset (or <paramref name="defaultPreset"/>) with every given option applied.</summary>
    public RunConfig Resolve(ParseResult p, string defaultPreset)
    {
        var c = Presets.Get(p.GetValue(Preset) ?? defaultPreset);
        var d = c.Data;
        var images = p.GetValue(Images);
        d = d with
        {
            Images = images is { Length: > 0 } ? images : d.Images,
            Chunk = p.GetValue(Chunk) ?? d.Chunk,
            Stride = p.GetValue(Stride) ?? d.Stride,
            MinMean = p.GetValue(MinMean) ?? d.MinMean,
            MaxMean = p.GetValue(MaxMean) ?? d.MaxMean,
            Normalize = p.GetValue(Normalize) ?? d.Normalize,
            PercentileLow = p.GetValue(PercentileLow) ?? d.PercentileLow,
            PercentileHigh = p.GetValue(PercentileHigh) ?? d.PercentileHigh,
            Channels = p.GetValue(Channels) ?? d.Channels,
            Pages = p.GetValue(Pages) ?? d.Pages,
            Split = p.GetValue(Split) ?? d.Split,
            ValFraction = p.GetValue(ValFraction) ?? d.ValFraction,
            TestFraction = p.GetValue(TestFraction) ?? d.TestFraction,
            ValCount = p.GetValue(ValCount) ?? d.ValCount,
            TestCount = p.GetValue(TestCount) ?? d.TestCount,
            OnBadImage = p.GetValue(OnBadImage) ?? d.OnBadImage,
        };
        var m = c.Model with
        {
            Kind = p.GetValue(Model) ?? c.Model.Kind,
            Width = p.GetValue(Width) ?? c.Model.Width,
            Latent = p.GetValue(Latent) ?? c.Model.Latent,
        };
        if (m.Kind == ModelKind.Provae || m.Progressive is not null)
        {
            var g = m.ProgressiveOrDefault();
            m = m with { Progressive = g with
            {
                EpochsPerStage = p.GetValue(EpochsPerStage) ?? g.EpochsPerStage,
                FadeImages = p.GetValue(FadeImages) ?? g.FadeImages,
                EqualizedLr = p.GetValue(EqualizedLr) ?? g.EqualizedLr,
                PixelNorm = p.GetValue(PixelNorm) ?? g.PixelNorm,
                MinibatchStd = p.GetValue(MinibatchStd) ?? g.MinibatchStd,
                ScaleReconstruction = p.GetValue(ScaleReconstruction) ?? g.ScaleReconstruction,
            } };
        }
        var t = c.Train with
        {
            // A progressive run's epochs follow from its stages unless given: stages x epochs per stage.
            Epochs = p.GetValue(Epochs) ?? (m.Kind == ModelKind.Provae ? m.ProgressiveOrDefault().TotalEpochs(d.Chunk) : c.Train.Epochs),
            Batch = p.GetValue(Batch) ?? c.Train.Batch,
            Lr = p.GetValue(Lr) ?? c.Train.Lr,
            Beta = p.GetValue(Beta) ?? c.Train.Beta,
            KlWarmup = p.GetValue(KlWarmup) ?? c.Train.KlWarmup,
            LrSchedule = p.GetValue(LrSchedule) ?? c.Train.LrSchedule,
            Seed = p.GetValue(Seed) ?? c.Train.Seed,
            Device = p.GetValue(Device) ?? c.Train.Device,
            EpochSize = p.GetValue(EpochSize) ?? c.Train.EpochSize,
            Threads = p.GetValue(Threads) ?? c.Train.Threads,
            GradClip = p.GetValue(GradClip) ?? c.Train.GradClip,
            MaxBadSteps = p.GetValue(MaxBadSteps) ?? c.Train.MaxBadSteps,
            CheckpointEvery = p.GetValue(CheckpointEvery) ?? c.Train.CheckpointEvery,
            LogEvery = p.GetValue(LogEvery) ?? c.Train.LogEvery,
            Precision = p.GetValue(Precision) ?? c.Train.Precision,
            Layout = p.GetValue(Layout) ?? c.Train.Layout,
        };
        return (c with { Data = d, Model = m, Train = t }).Validated();
    }
}
