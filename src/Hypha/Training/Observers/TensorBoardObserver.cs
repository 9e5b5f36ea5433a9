using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hypha.Training.Observers;

/// <summary>TensorBoard event files in the run's events/ folder: every metric as a scalar, grids as images.
/// Open with <c>tensorboard --logdir RUN/events</c>.</summary>
public sealed class TensorBoardObserver : ITrainingObserver
{
    SummaryWriter? _writer;
    long _step;

    /// <summary>Grids written by <see cref="GridsObserver"/> are mirrored here.</summary>
    public void AddImage(string tag, Tensor chw)
    {
        if (_writer is null) return;
        using var scope = NewDisposeScope();
        var img = chw.shape[0] == 1 ? chw.expand(3, -1, -1) : chw;
        _writer.add_img(tag, img.contiguous(), (int)_step);
    }

    public void OnStart(TrainingContext context, CheckpointHeader? resumedFrom)
    {
        _writer = utils.tensorboard.SummaryWriter(context.Run.EventsDir);
        _step = resumedFrom?.GlobalStep ?? 0;
    }

    public void OnMetrics(MetricsRow row)
    {
        if (_writer is null) return;
        _step = row.GlobalStep;
        var step = (int)row.GlobalStep;
        var p = row.Phase;
        foreach (var (k, v) in row.Terms) _writer.add_scalar($"{p}/{k}", (float)v, step);
        if (p == "train") _writer.add_scalar("train/images_per_s", (float)row.ImagesPerSecond, step);
        foreach (var (k, v) in row.Extras ?? new Dictionary<string, double>()) _writer.add_scalar($"{p}/{k}", (float)v, step);
    }

    public void OnEpochEnd(int epoch, TrainingContext context) { }

    // SummaryWriter writes each event as it comes and holds no handle to release.
    public void Dispose() => _writer = null;
}
