using System.Diagnostics;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Torch;
using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>The result of a training call.</summary>
/// <param name="LastValidation">The last epoch's validation terms (empty when no epoch ended in this call).</param>
public sealed record TrainResult(int EpochsDone, long ImagesSeen, int SkippedSteps, IReadOnlyDictionary<string, double> LastValidation, bool Complete)
{
    /// <summary>True when <see cref="TrainOptions.TimeLimit"/> stopped training (a checkpoint was written).</summary>
    public bool TimeLimitReached { get; init; }
}

/// <summary>
/// The training loop: resumes (or starts) a run, then for each epoch runs <see cref="TrainingStep"/>s over the
/// epoch's seeded order, logs averaged terms every <see cref="TrainOptions.LogEvery"/> steps, ends the epoch
/// (validation with the model's own loss, observers) and checkpoints as <see cref="CheckpointPolicy"/> says.
/// </summary>
public sealed class Trainer(TrainingContext context, IReadOnlyList<ITrainingObserver> observers, Action<StepProgress>? progress = null)
{
    readonly RunConfig _config = context.Config;
    readonly IGenerativeModel _model = context.Model;

    /// <summary>Trains until the configured epochs are done, continuing from the run's last checkpoint when
    /// <paramref name="resume"/> is set (a run that has none yet starts from the beginning). Cancellation writes a
    /// checkpoint, then throws <see cref="OperationCanceledException"/>.</summary>
    public TrainResult Run(bool resume, CancellationToken cancel = default)
    {
        var t = _config.Train;
        var train = context.Index.Train;
        Models.Layers.Autocast.PrepareWeights(_model, t.ChannelsLastOn(context.Device));
        using var optimizer = TrainingOptimizer.For(_model, t.Lr);
        using var auxiliary = AuxiliaryTraining.For(_model, t.Lr, context.Device, t.ChannelsLastOn(context.Device));
        using var governor = ThreadGovernor.For(context.Device, t.Threads);
        var from = resume ? Resume(optimizer, auxiliary) : null;
        var position = TrainingPosition.From(from);
        var progressive = _model.As<IProgressiveModel>();
        long imagesPerEpoch = ImagesPerEpoch(train.Count, t);
        // A progressive model's stage and alpha follow the images shown, so a resumed run continues where it was.
        progressive?.Advance(position.ImagesSeen, imagesPerEpoch);
        foreach (var o in observers) o.OnStart(context, from);

        var step = new TrainingStep(_model, optimizer, t, auxiliary);
        var checkpoints = new CheckpointPolicy(context, optimizer, auxiliary);
        IReadOnlyDictionary<string, double> lastVal = new Dictionary<string, double>();
        var clock = Stopwatch.StartNew();
        long imagesThisSession = 0;
        var window = new MetricsWindow();
        double Ips() => imagesThisSession / Math.Max(1e-9, clock.Elapsed.TotalSeconds);

        while (position.Epoch < t.Epochs)
        {
            var order = EpochOrder.For(train.Count, t.EpochSize, t.Seed, position.Epoch);
            int steps = EpochOrder.Steps(order.Length, t.Batch), batch = EpochOrder.BatchLength(order.Length, t.Batch);
            long totalImages = (long)t.Epochs * steps * batch;
            _model.Module.train();
            while (position.StepInEpoch < steps)
            {
                var s = position.StepInEpoch;
                using (var scope = NewDisposeScope())
                using (t.ComputeScope(context.Device))
                {
                    progressive?.Advance(position.ImagesSeen, imagesPerEpoch);
                    var x = ModelInput.Fit(_model, context.Bank.Cut(train, order.AsSpan(s * batch, batch)));
                    // Derived from images seen, like every schedule: a resumed run continues it exactly.
                    var terms = step.Run(x, position, t.LrAt(position.ImagesSeen, totalImages),
                        what => checkpoints.Diverged($"{what} (epoch {position.Epoch + 1}, step {s + 1})"));
                    if (terms is not null)
                    {
                        imagesThisSession += batch;
                        window.Add(terms);
                    }
                }
                position.StepInEpoch++;
                governor?.Tick();
                var ips = Ips();
                long remaining = (long)(steps - position.StepInEpoch) * batch + (long)(t.Epochs - position.Epoch - 1) * steps * batch;
                progress?.Invoke(new StepProgress(position.Epoch, t.Epochs, position.StepInEpoch, steps, position.ImagesSeen, window.Last,
                    ips, clock.Elapsed, ips > 0 ? TimeSpan.FromSeconds(remaining / ips) : null, position.SkippedSteps,
                    governor?.Threads ?? 0, governor?.MaxThreads ?? 0));
                if (position.GlobalStep % t.LogEvery == 0 && window.Count > 0) Emit(window.Drain(position, "train", ips, clock));

                if (cancel.IsCancellationRequested)
                {
                    checkpoints.Save(position, complete: false);
                    throw new OperationCanceledException("training interrupted; checkpoint written", cancel);
                }
                if (t.TimeLimit > 0 && clock.Elapsed.TotalMinutes >= t.TimeLimit && position.StepInEpoch < steps)
                {
                    if (window.Count > 0) Emit(window.Drain(position, "train", Ips(), clock));
                    checkpoints.Save(position, complete: false);
                    return new TrainResult(position.Epoch, position.ImagesSeen, position.SkippedSteps, lastVal, Complete: false) { TimeLimitReached = true };
                }
                if (checkpoints.DueInside(position.StepInEpoch, steps)) checkpoints.Save(position, complete: false);
            }
            if (window.Count > 0) Emit(window.Drain(position, "train", Ips(), clock));
            lastVal = EndEpoch(position, clock);
            position.Epoch++;
            position.StepInEpoch = 0;
            checkpoints.Save(position, complete: position.Epoch == t.Epochs);
        }
        // Resumed exactly at the last epoch's end (a run stopped between epochs, now given that many epochs): mark it done.
        if (from is { Complete: false } && from.Epoch == t.Epochs && from.StepInEpoch == 0) checkpoints.Save(position, complete: true);
        return new TrainResult(position.Epoch, position.ImagesSeen, position.SkippedSteps, lastVal, position.Epoch >= t.Epochs);
    }

    /// <summary>Loads the run's last checkpoint into the model and optimizer; null (start from the beginning) when the
    /// run stopped before its first checkpoint.</summary>
    CheckpointHeader? Resume(ITrainingOptimizer optimizer, AuxiliaryTraining? auxiliary)
    {
        if (!File.Exists(context.Run.LastCheckpoint)) return null;
        var from = Checkpoint.Load(context.Run.LastCheckpoint, _model, _config.Model, context.Bank.Channels, context.Bank.Size, optimizer, auxiliary);
        EnsureResumable(from, _config.Train.Epochs);
        return from;
    }

    /// <summary>Validation with the model's own loss, its metrics row, then the observers (model in eval mode).</summary>
    IReadOnlyDictionary<string, double> EndEpoch(TrainingPosition position, Stopwatch clock)
    {
        var t = _config.Train;
        using var compute = t.ComputeScope(context.Device);
        var val = Validator.Score(_model, context.Bank, context.Index.Validation, t.ValLimit, Math.Max(t.Batch, 64), position.ImagesSeen);
        Emit(new MetricsRow(position.Epoch, position.StepInEpoch, position.GlobalStep, position.ImagesSeen, "val", val.Terms, 0,
            clock.Elapsed.TotalSeconds, position.SkippedSteps));
        using (_model.EvalMode())
            foreach (var o in observers) o.OnEpochEnd(position.Epoch, context);
        return val.Terms;
    }

    /// <summary>A run cannot be trained backwards: throws a configuration error when the checkpoint <paramref name="from"/>
    /// is inside or after epoch <paramref name="epochs"/>. <c>hypha train --resume</c> calls it before it rewrites the
    /// run's config.json, so a refused resume changes nothing.</summary>
    public static void EnsureResumable(CheckpointHeader from, int epochs)
    {
        if (from.Epoch > epochs || (from.Epoch == epochs && from.StepInEpoch > 0))
            throw HyphaException.Config(
                $"the run is already past epoch {epochs} (its checkpoint is at epoch {from.Epoch + (from.StepInEpoch > 0 ? 1 : 0)}, " +
                $"step {from.StepInEpoch}); give --epochs {from.Epoch + 1} or more to continue it");
    }

    /// <summary>Training images one epoch shows (full batches only), what progressive schedules count in.</summary>
    public static long ImagesPerEpoch(int trainCount, TrainOptions t)
    {
        var length = EpochOrder.For(trainCount, t.EpochSize, t.Seed, 0).Length;
        return Math.Max(1L, (long)EpochOrder.Steps(length, t.Batch) * EpochOrder.BatchLength(length, t.Batch));
    }

    void Emit(MetricsRow row)
    {
        if (row.Extras is null && _model.As<IProgressiveModel>() is { } p) row = row with { Extras = p.Extras };
        foreach (var o in observers) o.OnMetrics(row);
    }

    /// <summary>Running means of the reported terms between two metrics rows, each over the steps that reported it (a
    /// discriminator's terms start partway).</summary>
    sealed class MetricsWindow
    {
        readonly Dictionary<string, (double Sum, int Count)> _sums = [];
        public int Count { get; private set; }
        public IReadOnlyDictionary<string, double> Last { get; private set; } = new Dictionary<string, double>();

        public void Add(Dictionary<string, double> terms)
        {
            foreach (var (k, v) in terms)
            {
                var (sum, count) = _sums.GetValueOrDefault(k);
                _sums[k] = (sum + v, count + 1);
            }
            Last = terms;
            Count++;
        }

        public MetricsRow Drain(TrainingPosition p, string phase, double ips, Stopwatch clock)
        {
            var means = _sums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Count);
            _sums.Clear();
            Count = 0;
            return new MetricsRow(p.Epoch, p.StepInEpoch, p.GlobalStep, p.ImagesSeen, phase, means, ips, clock.Elapsed.TotalSeconds, p.SkippedSteps);
        }
    }
}
