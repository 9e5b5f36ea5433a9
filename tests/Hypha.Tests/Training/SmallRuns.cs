using Hypha.Data;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Training;

namespace Hypha.Tests.Training;

/// <summary>Configurations small enough to train in seconds on two cores, on the real AMF root images.</summary>
public static class SmallRuns
{
    public static RunConfig Tiny(int epochs = 2, int seed = 0) => new RunConfig
    {
        Preset = "test",
        Data = new DataOptions { Images = [SharedData.Path("amf_ink_roots")], Chunk = 32, Stride = 32, Normalize = NormalizeMode.Percentile },
        Model = new VaeOptions { Width = 4, Latent = 8 },
        Train = new TrainOptions { Epochs = epochs, Batch = 16, Lr = 1e-3, Seed = seed, Device = "cpu", EpochSize = 64, ValLimit = 32, LogEvery = 2 },
    }.Validated();

    public static TrainResult Train(RunFolder run, RunConfig config, bool resume = false, Action<StepProgress>? progress = null, CancellationToken cancel = default)
    {
        using var session = TrainingSession.Create(run, config);
        return session.Train(resume, progress, cancel);
    }

    /// <summary>Every parameter and buffer of the run's last checkpoint, by name.</summary>
    public static Dictionary<string, float[]> Weights(RunFolder run)
    {
        using var session = TrainingSession.OpenTrained(run);
        return session.Model.Module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray());
    }
}
