using System.Diagnostics;
using Hypha.Data;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>The result of a training call.</summary>
public sealed record TrainResult(int EpochsDone, long ImagesSeen, int SkippedSteps, double LastValLoss, double LastValPsnr, bool Complete);

/// <summary>
/// The training loop: Adam on MSE + beta KL, a dispose scope per step (TorchSharp leaves temporaries to the GC
/// otherwise: memory grew 60 MB a step), NaN/Inf steps skipped and counted, validation each epoch, an atomic
/// checkpoint each epoch (and every <see cref="TrainOptions.CheckpointEvery"/> steps, and on cancellation).
/// </summary>
public sealed class Trainer(TrainingContext context, IReadOnlyList<ITrainingObserver> observers, Action<StepProgress>? progress = null)
{
    readonly RunConfig _config = context.Config;
    readonly IVaeModel _model = context.Model;

    /// <summary>Trains until the configured epochs are done, continuing from the run's last checkpoint when
    /// <paramref name="resume"/> is set. Cancellation writes a checkpoint, then throws <see cref="OperationCanceledException"/>.</summary>
    public TrainResult Run(bool resume, CancellationToken cancel = default)
    {
        var t = _config.Train;
        var train = context.Index.Train;
        var run = context.Run;
        Models.Layers.Autocast.PrepareWeights(_model, t.ChannelsLast);
        using var optimizer = TrainingOptimizer.For(_model, t.Lr);
        using var governor = ThreadGovernor.For(context.Device, t.Threads);
        CheckpointHeader? from = null;
        if (resume)
        {
            if (!File.Exists(run.LastCheckpoint))
                throw new HyphaException(ExitCode.BadCheckpoint, "--resume given but the run has no checkpoint yet", run.LastCheckpoint);
            from = Checkpoint.Load(run.LastCheckpoint, _model, _config.Model, context.Bank.Channels, context.Bank.Size, optimizer);
            EnsureResumable(from, t.Epochs);
        }
        // A progressive model's stage and alpha follow the images shown, so a resumed run continues where it was.
        var progressive = _model as IProgressiveModel;
        long imagesPerEpoch = ImagesPerEpoch(train.Count, t);
        progressive?.Advance(from?.ImagesSeen ?? 0, imagesPerEpoch);
        foreach (var o in observers) o.OnStart(context, from);

        int epoch = from?.Epoch ?? 0, firstStep = from?.StepInEpoch ?? 0;
        long imagesSeen = from?.ImagesSeen ?? 0, globalStep = from?.GlobalStep ?? 0;
        int skipped = from?.SkippedSteps ?? 0, badInARow = 0;
        double lastValLoss = double.NaN, lastValPsnr = double.NaN;
        var clock = Stopwatch.StartNew();
        long imagesThisSession = 0;
        var window = new MetricsWindow();

        void Save(int e, int stepInEpoch, bool complete)
        {
            // A NaN gradient with a finite loss poisons the weights without a bad step being seen: never overwrite the
            // last good checkpoint with them.
            if (!optimizer.WeightsFinite())
                throw new HyphaException(ExitCode.Diverged,
                    $"the weights became NaN or infinite (epoch {e + (stepInEpoch == 0 ? 0 : 1)}); training stopped and {KeptCheckpoint(run)}. " +
                    "Try a lower --lr or --grad-clip", KeptPath(run));
            Checkpoint.Save(run.LastCheckpoint, new CheckpointHeader(Checkpoint.CurrentFormat, _config.Model, context.Bank.Channels, context.Bank.Size,
                e, stepInEpoch, globalStep, imagesSeen, skipped, complete, DateTime.UtcNow), _model, optimizer);
        }

        for (; epoch < t.Epochs; epoch++, firstStep = 0)
        {
            var order = EpochOrder.For(train.Count, t.EpochSize, t.Seed, epoch);
            int steps = EpochOrder.Steps(order.Length, t.Batch), batch = EpochOrder.BatchLength(order.Length, t.Batch);
            long totalImages = (long)t.Epochs * steps * batch;
            _model.Module.train();
            for (var step = firstStep; step < steps; step++)
            {
                using (var scope = NewDisposeScope())
                using (t.ComputeScope(context.Device))
                {
                    progressive?.Advance(imagesSeen, imagesPerEpoch);
                    var x = ModelInput.Fit(_model, context.Bank.Cut(train, order.AsSpan(step * batch, batch)));
                    var output = _model.Forward(x);
                    var terms = _model.Loss(x, output, t.BetaAt(imagesSeen));
                    // Derived from images seen, like the KL weight: a resumed run continues the schedule exactly.
                    optimizer.LearningRate = t.LrAt(imagesSeen, totalImages);
                    var loss = terms.Loss.item<float>();
                    if (!float.IsFinite(loss))
                    {
                        skipped++;
                        if (++badInARow >= t.MaxBadSteps)
                            throw new HyphaException(ExitCode.Diverged,
                                $"the loss was NaN or infinite for {badInARow} steps in a row (epoch {epoch + 1}, step {step + 1}); " +
                                $"training stopped and {KeptCheckpoint(run)}. Try a lower --lr or --grad-clip", KeptPath(run));
                        continue;
                    }
                    badInARow = 0;
                    optimizer.ZeroGrad();
                    terms.Loss.backward();
                    if (t.GradClip > 0) optimizer.ClipGradNorm(t.GradClip);
                    optimizer.Step();
                    imagesSeen += batch;
                    imagesThisSession += batch;
                    globalStep++;
                    window.Add(loss, terms.Reconstruction.item<float>(), terms.Kl.item<float>(), terms.MsePerPixel.item<float>());
                }

                governor?.Tick();
                var ips = imagesThisSession / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                long remaining = (long)(steps - step - 1) * batch + (long)(t.Epochs - epoch - 1) * steps * batch;
                progress?.Invoke(new StepProgress(epoch, t.Epochs, step + 1, steps, imagesSeen, window.LastLoss, window.LastKl,
                    window.LastMse, ips, clock.Elapsed, ips > 0 ? TimeSpan.FromSeconds(remaining / ips) : null, skipped,
                    governor?.Threads ?? 0, governor?.MaxThreads ?? 0));
                if (globalStep % t.LogEvery == 0 && window.Count > 0)
                    Emit(window.Drain(epoch, step + 1, globalStep, imagesSeen, ips, clock.Elapsed.TotalSeconds, skipped));

                if (cancel.IsCancellationRequested)
                {
                    Save(epoch, step + 1, complete: false);
                    throw new OperationCanceledException("training interrupted; checkpoint written", cancel);
                }
                if (t.CheckpointEvery > 0 && (step + 1) % t.CheckpointEvery == 0 && step + 1 < steps) Save(epoch, step + 1, complete: false);
            }
            if (window.Count > 0)
                Emit(window.Drain(epoch, steps, globalStep, imagesSeen, imagesThisSession / Math.Max(1e-9, clock.Elapsed.TotalSeconds), clock.Elapsed.TotalSeconds, skipped));

            using var compute = t.ComputeScope(context.Device);
            var val = Validator.Score(_model, context.Bank, context.Index.Validation, t.ValLimit, Math.Max(t.Batch, 64), t.Beta);
            lastValLoss = val.Loss;
            lastValPsnr = val.Psnr;
            Emit(new MetricsRow(epoch, steps, globalStep, imagesSeen, "val", val.Loss, val.Reconstruction, val.Kl, val.MsePerPixel,
                val.Psnr, 0, clock.Elapsed.TotalSeconds, skipped));
            using (new Sampling.Generation.EvalMode(_model))
                foreach (var o in observers) o.OnEpochEnd(epoch, context);
            Save(epoch + 1, 0, complete: epoch + 1 == t.Epochs);
        }
        // Resumed exactly at the last epoch's end (a run stopped between epochs, now given that many epochs): mark it done.
        if (from is { Complete: false } && from.Epoch == t.Epochs && from.StepInEpoch == 0) Save(epoch, 0, complete: true);
        return new TrainResult(epoch, imagesSeen, skipped, lastValLoss, lastValPsnr, epoch >= t.Epochs);
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

    static string KeptPath(RunFolder run) => File.Exists(run.LastCheckpoint) ? run.LastCheckpoint : run.Root;

    static string KeptCheckpoint(RunFolder run) => File.Exists(run.LastCheckpoint)
        ? "the last good checkpoint is kept"
        : "no checkpoint had been written yet";

    /// <summary>Training images one epoch shows (full batches only), what progressive schedules count in.</summary>
    public static long ImagesPerEpoch(int trainCount, TrainOptions t)
    {
        var length = EpochOrder.For(trainCount, t.EpochSize, t.Seed, 0).Length;
        return Math.Max(1L, (long)EpochOrder.Steps(length, t.Batch) * EpochOrder.BatchLength(length, t.Batch));
    }

    void Emit(MetricsRow row)
    {
        if (row.Extras is null && _model is IProgressiveModel p) row = row with { Extras = p.Extras };
        foreach (var o in observers) o.OnMetrics(row);
    }

    /// <summary>Running means of the loss terms between two metrics rows.</summary>
    sealed class MetricsWindow
    {
        double _loss, _recon, _kl, _mse;
        public int Count { get; private set; }
        public double LastLoss { get; private set; }
        public double LastKl { get; private set; }
        public double LastMse { get; private set; }

        public void Add(double loss, double recon, double kl, double mse)
        {
            (_loss, _recon, _kl, _mse) = (_loss + loss, _recon + recon, _kl + kl, _mse + mse);
            (LastLoss, LastKl, LastMse) = (loss, kl, mse);
            Count++;
        }

        public MetricsRow Drain(int epoch, int step, long globalStep, long seen, double ips, double elapsed, int skipped)
        {
            var mse = _mse / Count;
            var row = new MetricsRow(epoch, step, globalStep, seen, "train", _loss / Count, _recon / Count, _kl / Count, mse,
                Validator.Psnr(mse), ips, elapsed, skipped);
            _loss = _recon = _kl = _mse = 0;
            Count = 0;
            return row;
        }
    }
}
