using Hypha.Data;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Torch;
using Hypha.Training.Observers;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>
/// A run folder opened for work: its configuration, data resident on the device, and the model. <see cref="Train"/>
/// is <c>hypha train</c>; <see cref="OpenTrained"/> is how sample, reconstruct and evaluate get a model.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    public RunFolder Run { get; }
    public RunConfig Config { get; }
    public PreparedData Data { get; }
    public ChunkBank Bank { get; }
    public IGenerativeModel Model { get; }
    public Device Device { get; }

    TrainingSession(RunFolder run, RunConfig config, PreparedData data, Device device)
    {
        Run = run;
        Config = config;
        Data = data;
        Device = device;
        Bank = new ChunkBank(data, device);
        // Initialization is seeded so that two runs with the same seed start from the same weights.
        manual_seed(config.Train.Seed);
        Model = config.Model.Descriptor.Create(config.Model, data.Channels, data.ChunkSize);
        Model.Module.to(device);
    }

    public TrainingContext Context => new(Run, Config, Model, Bank, Data.Index, Device);

    /// <summary>Reads the images and builds the model for <paramref name="config"/> in <paramref name="run"/>, writing config.json
    /// (images as absolute paths), dataset.json and, for a new run, inputs.json (<see cref="InputManifest"/>).
    /// With <paramref name="resume"/> (default false) the config is the run's stored one, and its images must be what
    /// inputs.json recorded: otherwise the differences are listed and nothing is written.</summary>
    public static TrainingSession Create(RunFolder run, RunConfig config, Action<string>? log = null, bool resume = false)
    {
        try
        {
            return CreateCore(run, config, log, resume);
        }
        catch (Exception e)
        {
            // Bad images, no usable chunks, no CUDA...: leave no empty run folder behind (a resumed run has files and is kept);
            // an allocation failure after config.json was written leaves no half-made run either.
            if (AllocationFailure.From(e) is not null) run.DeleteIfNoCheckpoint();
            else run.DeleteIfEmpty();
            throw;
        }
    }

    static TrainingSession CreateCore(RunFolder run, RunConfig config, Action<string>? log, bool resume)
    {
        config.Validated();
        if (!resume) config = config with { Data = config.Data.WithAbsoluteImages() };
        if (config.Train.Threads > 0) set_num_threads(config.Train.Threads);
        var device = DeviceSelector.Resolve(config.Train.Device);
        MemoryCheck.EnsureTrainingFits(config, device); // before reading images or building anything
        var data = resume ? run.ReadData(config, log) : DatasetBuilder.Build(config.Data, config.Train.Seed, log);
        run.WriteConfig(config);
        DatasetSummary.From(data).Write(run.DatasetPath);
        if (!resume || !File.Exists(run.InputsPath)) InputManifest.Of(data.Inputs).Write(run.InputsPath);
        return new TrainingSession(run, config, data, device);
    }

    /// <summary>Opens a trained run: its config, its data (re-read from the recorded image paths) and the weights of its last checkpoint.</summary>
    public static TrainingSession OpenTrained(RunFolder run, string? device = null, Action<string>? log = null)
    {
        var config = run.ReadConfig();
        if (device is not null) config = config with { Train = config.Train with { Device = device } };
        if (config.Train.Threads > 0) set_num_threads(config.Train.Threads);
        var resolved = DeviceSelector.Resolve(config.Train.Device);
        MemoryCheck.EnsureModelFits(config, resolved);
        var data = run.ReadData(config, log);
        var session = new TrainingSession(run, config, data, resolved);
        Checkpoint.Load(run.LastCheckpoint, session.Model, config.Model, data.Channels, data.ChunkSize, optimizer: null);
        session.Model.Module.eval();
        Models.Layers.Autocast.PrepareWeights(session.Model, config.Train.ChannelsLastOn(resolved));
        return session;
    }

    /// <summary>Only the trained model of a run, on <paramref name="device"/> (default: the run's), without reading its images:
    /// enough for sampling.</summary>
    public static (RunConfig Config, IGenerativeModel Model, Device Device) LoadModel(RunFolder run, string? device = null)
    {
        var config = run.ReadConfig();
        var resolved = DeviceSelector.Resolve(device ?? config.Train.Device);
        MemoryCheck.EnsureModelFits(config, resolved);
        var channels = Imaging.ChannelModeExtensions.Count(config.Data.Channels);
        var model = config.Model.Descriptor.Create(config.Model, channels, config.Data.Chunk);
        try
        {
            Checkpoint.Load(run.LastCheckpoint, model, config.Model, channels, config.Data.Chunk, optimizer: null);
            model.Module.to(resolved);
            model.Module.eval();
            Models.Layers.Autocast.PrepareWeights(model, config.Train.ChannelsLastOn(resolved));
            return (config, model, resolved);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Trains with the standard observers: metrics.csv, TensorBoard, curves and grids.</summary>
    public TrainResult Train(bool resume, Action<StepProgress>? progress = null, CancellationToken cancel = default,
        IEnumerable<ITrainingObserver>? extraObservers = null)
    {
        var tensorBoard = new TensorBoardObserver();
        var observers = new List<ITrainingObserver> { new MetricsCsvObserver(), tensorBoard, new CurvesObserver(), new GridsObserver(tensorBoard), new StageGridsObserver(tensorBoard) };
        observers.AddRange(extraObservers ?? []);
        try
        {
            return new Trainer(Context, observers, progress).Run(resume, cancel);
        }
        finally
        {
            foreach (var o in observers) o.Dispose();
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        Bank.Dispose();
    }
}
