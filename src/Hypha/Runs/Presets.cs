using Hypha.Data;
using Hypha.Models;
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
        Model = new ModelOptions { Width = 64, Latent = 256 },
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
        Model = new ModelOptions { Width = 16, Latent = 64 },
        Train = new TrainOptions { Epochs = 30, Batch = 16, Lr = 2e-3, KlWarmup = 4096, EpochSize = 2048, ValLimit = 256 },
    };

    public static IReadOnlyDictionary<string, RunConfig> All { get; } = new Dictionary<string, RunConfig>
    {
        ["thesis"] = Thesis,
        ["cpu"] = Cpu,
    };

    public static RunConfig Get(string name) =>
        All.TryGetValue(name.Trim().ToLowerInvariant(), out var preset)
            ? preset
            : throw HyphaException.Config($"unknown preset '{name}': choose one of {string.Join(", ", All.Keys)}");
}
