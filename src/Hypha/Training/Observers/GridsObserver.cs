using Hypha.Imaging;
using Hypha.Models;
using Hypha.Reporting;
using Hypha.Runs;
using static TorchSharp.torch;

namespace Hypha.Training.Observers;

/// <summary>
/// After each epoch: grids/samples.png (64 samples from a fixed seed, so epochs can be compared), kept per epoch as
/// grids/history/samples_eNNN.png for the report's "through training" row, and, for models that reconstruct
/// (<see cref="IEncoderModel"/>), grids/reconstructions.png (50 validation originals left, their reconstructions
/// right); mirrored to TensorBoard. A model whose samples need a fitted prior (<see cref="DrawsSamples"/>) gets
/// reconstructions only.
/// </summary>
public sealed class GridsObserver(TensorBoardObserver? tensorBoard = null) : ITrainingObserver
{
    /// <summary>Folder under grids/ with one sample grid per epoch.</summary>
    public const string HistoryDir = "history";

    /// <summary>Validation chunks shown; default 50, as the thesis.</summary>
    public int Originals { get; init; } = 50;
    /// <summary>Samples shown; default 64.</summary>
    public int Samples { get; init; } = 64;

    public void OnStart(TrainingContext context, CheckpointHeader? resumedFrom) { }
    public void OnMetrics(MetricsRow row) { }

    public void OnEpochEnd(int epoch, TrainingContext context)
    {
        using var scope = NewDisposeScope();
        if (DrawsSamples(context.Model))
        {
            var samples = SampleGrid(context.Model, context, Samples);
            Write(context.Run, "samples.png", samples);
            Directory.CreateDirectory(Path.Combine(context.Run.GridsDir, HistoryDir));
            Write(context.Run, Path.Combine(HistoryDir, $"samples_e{epoch + 1:D3}.png"), samples);
            tensorBoard?.AddImage("grids/samples", samples);
        }
        if (context.Model.As<IEncoderModel>() is { } encoder && context.Index.Validation.Count > 0)
        {
            var recon = ReconstructionGrid(encoder, context, Originals);
            Write(context.Run, "reconstructions.png", recon);
            tensorBoard?.AddImage("grids/reconstructions", recon);
        }
    }

    /// <summary>Whether training previews the model's samples: not for a model whose samples need a prior fitted after
    /// training (<see cref="IEncoderModel.SamplesFromPrior"/> false: its N(0, I) decodes would only mislead).</summary>
    public static bool DrawsSamples(IGenerativeModel model) => model.As<IEncoderModel>() is not { SamplesFromPrior: false };

    /// <summary>Validation originals beside their reconstructions, as [C, H, W] at the model's current resolution.</summary>
    public static Tensor ReconstructionGrid(IEncoderModel model, TrainingContext context, int originals)
    {
        using var scope = NewDisposeScope();
        var val = context.Index.Validation;
        var n = Math.Min(originals, val.Count);
        var picks = Enumerable.Range(0, n).Select(i => val[(int)((long)i * val.Count / n)]).ToList();
        var x = ModelInput.Fit(model, context.Bank.Cut(picks));
        var xhat = VaeMath.Reconstruct(model, x);
        return ImageGrid.SideBySide(x, xhat, columns: 5).MoveToOuterDisposeScope();
    }

    /// <summary>Samples from the fixed grid seed (the run's seed + 12345), with the family's preview settings, as an
    /// 8-column [C, H, W] grid.</summary>
    public static Tensor SampleGrid(IGenerativeModel model, TrainingContext context, int samples)
    {
        using var scope = NewDisposeScope();
        var images = model.Sample(new SampleRequest(samples, context.Config.Train.Seed + 12345)
        {
            Device = context.Device, Settings = context.Descriptor.PreviewSettings,
        });
        return ImageGrid.Tile(images, columns: 8).MoveToOuterDisposeScope();
    }

    static void Write(RunFolder run, string name, Tensor chw) =>
        AtomicFile.WriteAllBytes(Path.Combine(run.GridsDir, name), ImageEncoding.Encode(chw, ImageFormat.Png8));

    public void Dispose() { }
}
