using Hypha.Imaging;
using Hypha.Models;
using Hypha.Reporting;
using Hypha.Runs;
using Hypha.Sampling;
using static TorchSharp.torch;

namespace Hypha.Training.Observers;

/// <summary>
/// After each epoch: grids/reconstructions.png (50 validation originals left, their reconstructions right) and
/// grids/samples.png (64 samples from fixed latents, so epochs can be compared), mirrored to TensorBoard.
/// </summary>
public sealed class GridsObserver(TensorBoardObserver? tensorBoard = null) : ITrainingObserver
{
    /// <summary>Validation chunks shown; default 50, as the thesis.</summary>
    public int Originals { get; init; } = 50;
    /// <summary>Samples shown; default 64.</summary>
    public int Samples { get; init; } = 64;

    public void OnStart(TrainingContext context, CheckpointHeader? resumedFrom) { }
    public void OnMetrics(MetricsRow row) { }

    public void OnEpochEnd(int epoch, TrainingContext context)
    {
        using var scope = NewDisposeScope();
        var (recon, samples) = Render(context.Model, context, Originals, Samples);
        Write(context.Run, "reconstructions.png", recon);
        Write(context.Run, "samples.png", samples);
        tensorBoard?.AddImage("grids/reconstructions", recon);
        tensorBoard?.AddImage("grids/samples", samples);
    }

    /// <summary>The two grids as [C, H, W] tensors at the model's current resolution.</summary>
    public static (Tensor Reconstructions, Tensor Samples) Render(IVaeModel model, TrainingContext context, int originals, int samples)
    {
        using var scope = NewDisposeScope();
        var val = context.Index.Validation;
        var picks = Enumerable.Range(0, Math.Min(originals, val.Count)).Select(i => val[(int)((long)i * val.Count / Math.Min(originals, val.Count))]).ToList();
        var x = ModelInput.Fit(model, context.Bank.Cut(picks));
        var xhat = Generation.Reconstruct(model, x);
        var recon = ImageGrid.SideBySide(x, xhat, columns: 5);
        var z = Generation.PriorLatents(samples, model.LatentSize, context.Config.Train.Seed + 12345);
        var grid = ImageGrid.Tile(Generation.Decode(model, z, context.Device), columns: 8);
        return (recon.MoveToOuterDisposeScope(), grid.MoveToOuterDisposeScope());
    }

    static void Write(RunFolder run, string name, Tensor chw) =>
        AtomicFile.WriteAllBytes(Path.Combine(run.GridsDir, name), ImageEncoding.Encode(chw, ImageFormat.Png8));

    public void Dispose() { }
}
