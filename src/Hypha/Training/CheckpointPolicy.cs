using Hypha.Runs;

namespace Hypha.Training;

/// <summary>
/// When and how a run is checkpointed: at every epoch end, every <see cref="TrainOptions.CheckpointEvery"/> steps
/// inside an epoch, and on cancellation; never with NaN weights (a NaN gradient with a finite loss poisons the
/// weights without a bad step being seen, so the last good checkpoint is kept instead).
/// </summary>
public sealed class CheckpointPolicy(TrainingContext context, ITrainingOptimizer optimizer, AuxiliaryTraining? auxiliary = null)
{
    readonly RunFolder _run = context.Run;

    /// <summary>Whether to checkpoint after step <paramref name="stepsDone"/> of an epoch of <paramref name="steps"/>
    /// (inside the epoch only: the epoch end always checkpoints).</summary>
    public bool DueInside(int stepsDone, int steps)
    {
        var every = context.Config.Train.CheckpointEvery;
        return every > 0 && stepsDone % every == 0 && stepsDone < steps;
    }

    /// <summary>Writes the checkpoint of <paramref name="position"/>.</summary>
    public void Save(TrainingPosition position, bool complete)
    {
        if (!optimizer.WeightsFinite())
            throw Diverged($"the weights became NaN or infinite (epoch {position.Epoch + (position.StepInEpoch == 0 ? 0 : 1)})");
        if (auxiliary is not null && !auxiliary.WeightsFinite())
            throw Diverged($"the {auxiliary.Name}'s weights became NaN or infinite (epoch {position.Epoch + (position.StepInEpoch == 0 ? 0 : 1)})");
        Checkpoint.Save(_run.LastCheckpoint, new CheckpointHeader(Checkpoint.CurrentFormat, context.Config.Model, context.Bank.Channels,
            context.Bank.Size, position.Epoch, position.StepInEpoch, position.GlobalStep, position.ImagesSeen, position.SkippedSteps,
            complete, DateTime.UtcNow), context.Model, optimizer, auxiliary);
    }

    /// <summary>The error that stops a diverged run, saying whether a good checkpoint is kept.</summary>
    public HyphaException Diverged(string what)
    {
        var kept = File.Exists(_run.LastCheckpoint);
        return new HyphaException(ExitCode.Diverged,
            $"{what}; training stopped and {(kept ? "the last good checkpoint is kept" : "no checkpoint had been written yet")}. Try a lower --lr or --grad-clip",
            kept ? _run.LastCheckpoint : _run.Root);
    }
}
