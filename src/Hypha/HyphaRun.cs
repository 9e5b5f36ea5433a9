using Hypha.Export;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Sampling;
using Hypha.Training;
using static TorchSharp.torch;

namespace Hypha;

/// <summary>
/// What <see cref="HyphaRun.Train"/> trains: the images, a preset, and the settings most runs change. Anything else
/// (a model's width, the learning rate, normalization...) through <see cref="Configure"/>, on the resolved
/// <see cref="RunConfig"/>.
/// </summary>
public sealed record TrainRequest
{
    /// <summary>Image folders (searched recursively), files or globs: PNG, JPEG, TIFF, 8 or 16 bit. Required.</summary>
    public required IReadOnlyList<string> Images { get; init; }

    /// <summary>The starting configuration (<see cref="Presets.All"/>: thesis, cpu, provae, provae-cpu, diffusion-cpu,
    /// diffusion). Default "cpu" (a laptop-sized ResNet-18 VAE on 64x64 chunks); "thesis" wants a GPU.</summary>
    public string Preset { get; init; } = "cpu";

    /// <summary>The run folder to create (new, or one whose run stopped before its first checkpoint). Default null: a
    /// numbered folder under <see cref="Parent"/>, named from the configuration.</summary>
    public string? RunFolder { get; init; }

    /// <summary>Where numbered run folders go when <see cref="RunFolder"/> is null. Default "runs".</summary>
    public string Parent { get; init; } = "runs";

    /// <summary>The model family (<see cref="ModelRegistry.All"/>: resnet_vae, provae, diffusion), keeping the preset's
    /// settings that both share. Default null: the preset's.</summary>
    public string? Model { get; init; }

    /// <summary>Epochs to train. Default null: the preset's (a progressive model's follows from its stages).</summary>
    public int? Epochs { get; init; }

    /// <summary>Training chunks per epoch (0: all). Default null: the preset's.</summary>
    public int? EpochSize { get; init; }

    /// <summary>Chunk side in pixels. Default null: the preset's.</summary>
    public int? Chunk { get; init; }

    /// <summary>Seed of the split, data order and initialization. Default null: the preset's (0).</summary>
    public int? Seed { get; init; }

    /// <summary>auto, cpu, cuda or cuda:N. Default null: the preset's (auto: CUDA when available).</summary>
    public string? Device { get; init; }

    /// <summary>Applied last to the resolved configuration, e.g.
    /// <c>c =&gt; c with { Train = c.Train with { Lr = 1e-3 } }</c>. Default null.</summary>
    public Func<RunConfig, RunConfig>? Configure { get; init; }

    /// <summary>The configuration this request trains with, validated (a <see cref="HyphaException"/> names what is wrong).</summary>
    public RunConfig Resolve()
    {
        var c = Presets.Get(Preset);
        var model = Model is { } family ? ModelRegistry.Get(family).Adopt(c.Model) : c.Model;
        var data = c.Data with { Images = Images, Chunk = Chunk ?? c.Data.Chunk };
        c = c with
        {
            Data = data,
            Model = model,
            Train = c.Train with
            {
                Epochs = Epochs ?? model.Descriptor.EpochsFor(model, data.Chunk) ?? c.Train.Epochs,
                EpochSize = EpochSize ?? c.Train.EpochSize,
                Seed = Seed ?? c.Train.Seed,
                Device = Device ?? c.Train.Device,
            },
        };
        if (Configure is not null) c = Configure(c);
        if (c.Data.Images.Count == 0) throw HyphaException.Config("no images given: set Images to a folder, files or a glob");
        return c.Validated();
    }
}

/// <summary>
/// The library's front door: a run folder with a trained model, to train, open, sample, export and import, as the
/// <c>hypha</c> command does (it calls the same types: <see cref="TrainingSession"/>, <see cref="SampleWriter"/>,
/// <see cref="ModelExport"/>). The model is loaded on first use and kept until disposed.
/// <code>
/// var run = HyphaRun.Train(new TrainRequest { Images = ["roots/"], Epochs = 2 });
/// using (run) run.SampleTo("synthetic", count: 100);
/// </code>
/// </summary>
public sealed class HyphaRun : IDisposable
{
    IGenerativeModel? _model;
    Device? _device;

    HyphaRun(RunFolder folder, RunConfig config, TrainResult? training)
    {
        Folder = folder;
        Config = config;
        Training = training;
    }

    /// <summary>The run folder (config.json, checkpoints/last.ckpt, metrics.csv, plots/, grids/...).</summary>
    public RunFolder Folder { get; }

    /// <summary>The run's configuration (its config.json).</summary>
    public RunConfig Config { get; }

    /// <summary>What <see cref="Train"/> did (epochs, images seen, last validation terms); null for an opened run.</summary>
    public TrainResult? Training { get; }

    /// <summary>
    /// Trains a new run (checkpoints, metrics, curves and grids in its folder, as <c>hypha train</c>) and returns it.
    /// <paramref name="progress"/> sees every step; <paramref name="log"/> gets warnings (skipped images); cancelling
    /// <paramref name="cancel"/> writes a checkpoint, then throws <see cref="OperationCanceledException"/> (continue
    /// with <c>hypha train --run DIR --resume</c>).
    /// </summary>
    public static HyphaRun Train(TrainRequest request, Action<StepProgress>? progress = null, CancellationToken cancel = default,
        Action<string>? log = null)
    {
        var config = request.Resolve();
        OwnOutputs.RefuseInside(request.RunFolder ?? request.Parent, config.Data.Images, request.RunFolder is not null ? "RunFolder" : "Parent");
        if (request.RunFolder is { } exact && File.Exists(Path.Combine(exact, "checkpoints", "last.ckpt")))
            throw new HyphaException(ExitCode.OutputError, "already holds a trained run; open it with HyphaRun.Open or choose another folder", exact);
        var run = request.RunFolder is not null ? Runs.RunFolder.At(request.RunFolder) : Runs.RunFolder.CreateUnder(request.Parent, config);
        using var hold = RunLock.Acquire(run.Root, "run folder");
        using var session = TrainingSession.Create(run, config, log);
        var result = session.Train(resume: false, progress, cancel);
        return new HyphaRun(run, config, result);
    }

    /// <summary>A trained run folder (one with checkpoints/last.ckpt, from <see cref="Train"/>, <c>hypha train</c> or
    /// <see cref="Import"/>).</summary>
    public static HyphaRun Open(string folder)
    {
        var run = Runs.RunFolder.Open(folder);
        return new HyphaRun(run, run.ReadConfig(), null);
    }

    /// <summary>A run folder made from a safetensors weights file (<see cref="ModelExport.Import"/>: the model's JSON from
    /// <paramref name="config"/>, else the file's metadata, else NAME.json beside it).</summary>
    public static HyphaRun Import(string file, string folder, string? config = null, bool overwrite = false)
    {
        var result = ModelExport.Import(file, folder, config, overwrite);
        return new HyphaRun(result.Run, result.Config, null);
    }

    /// <summary>The trained model in eval mode on <see cref="Device"/>, loaded from the last checkpoint on first use.</summary>
    public IGenerativeModel Model
    {
        get
        {
            if (_model is null) (_, _model, _device) = TrainingSession.LoadModel(Folder);
            return _model;
        }
    }

    /// <summary>Where the model computes: the run's device (<see cref="TrainOptions.Device"/>, default auto).</summary>
    public Device Device
    {
        get
        {
            _ = Model;
            return _device!;
        }
    }

    /// <summary>
    /// <paramref name="count"/> synthetic images [count, C, H, W], float32 in [0, 1] on the CPU: image i depends only on
    /// (<paramref name="seed"/>, <paramref name="start"/> + i), so <c>hypha sample --seed S</c> writes the same ones.
    /// <paramref name="settings"/>: diffusion sampler, steps, eta (default the model's).
    /// </summary>
    public Tensor Sample(int count, long seed = 0, int start = 0, SamplerSettings? settings = null)
    {
        using var compute = Compute();
        return Model.Sample(new SampleRequest(count, seed) { Start = start, Device = Device, Settings = settings ?? new SamplerSettings() });
    }

    /// <summary>Writes <paramref name="count"/> samples to <paramref name="folder"/> (sample_000000.png... and grid.png,
    /// as <c>hypha sample</c>); an existing folder with files is refused unless <paramref name="overwrite"/>. Returns the
    /// sample files. Defaults: seed 0, 8-bit PNG, the model's sampler settings.</summary>
    public IReadOnlyList<string> SampleTo(string folder, int count, long seed = 0, ImageFormat format = ImageFormat.Png8,
        bool overwrite = false, SamplerSettings? settings = null, Action<int>? progress = null)
    {
        using var compute = Compute();
        using var hold = RunLock.ForOutput(folder);
        return SampleWriter.Write(Model, Device, count, folder, seed, format, overwrite: overwrite, progress: progress, settings: settings);
    }

    /// <summary>fp32 in the run's layout, as <c>hypha sample</c> computes by default (so both write the same bytes).</summary>
    IDisposable Compute() => (Config.Train with { Precision = Precision.Fp32 }).ComputeScope(Device);

    /// <summary>Writes the trained weights with PyTorch's names to <paramref name="file"/> (safetensors) and the model's
    /// configuration beside it (<see cref="ModelExport.Export"/>).</summary>
    public ExportResult Export(string file, bool overwrite = false) => ModelExport.Export(Folder.Root, file, overwrite);

    public void Dispose()
    {
        _model?.Dispose();
        _model = null;
    }
}
