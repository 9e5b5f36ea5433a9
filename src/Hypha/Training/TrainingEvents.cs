using Hypha.Data;
using Hypha.Models;
using Hypha.Runs;
using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>Live progress after each optimizer step, for consoles and progress bars.</summary>
/// <param name="Terms">The last step's reported loss terms, by name, in the family's order.</param>
public sealed record StepProgress(
    int Epoch, int Epochs, int Step, int StepsPerEpoch, long ImagesSeen, IReadOnlyDictionary<string, double> Terms,
    double ImagesPerSecond, TimeSpan Elapsed, TimeSpan? Eta, int SkippedSteps, int CpuThreads = 0, int MaxCpuThreads = 0);

/// <summary>One row of metrics.csv: a training average over the last log interval, or a validation pass.</summary>
/// <param name="Phase"><c>train</c> or <c>val</c>.</param>
/// <param name="Terms">The model's reported loss terms (<see cref="ModelDescriptor.Terms"/>), averaged, by name.</param>
/// <param name="Extras">Model-specific columns (e.g. a progressive VAE's stage and alpha).</param>
public sealed record MetricsRow(
    int Epoch, int Step, long GlobalStep, long ImagesSeen, string Phase, IReadOnlyDictionary<string, double> Terms,
    double ImagesPerSecond, double ElapsedSeconds, int SkippedSteps, IReadOnlyDictionary<string, double>? Extras = null);

/// <summary>What observers may look at: the run, the model being trained and the data it trains on.</summary>
public sealed record TrainingContext(RunFolder Run, RunConfig Config, IGenerativeModel Model, ChunkBank Bank, ChunkIndex Index, Device Device)
{
    /// <summary>The model family's descriptor.</summary>
    public ModelDescriptor Descriptor => Config.Model.Descriptor;
}

/// <summary>Something that records training: CSV, TensorBoard, plots, grids. Called on the training thread.</summary>
public interface ITrainingObserver : IDisposable
{
    /// <summary>Before the first step; <paramref name="resumedFrom"/> is the checkpoint a resumed run continues from.</summary>
    void OnStart(TrainingContext context, CheckpointHeader? resumedFrom);

    /// <summary>A metrics row (every <see cref="TrainOptions.LogEvery"/> steps, and the validation row of each epoch).</summary>
    void OnMetrics(MetricsRow row);

    /// <summary>After each epoch's validation, with the model in eval mode.</summary>
    void OnEpochEnd(int epoch, TrainingContext context);
}
