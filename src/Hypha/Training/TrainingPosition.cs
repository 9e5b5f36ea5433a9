namespace Hypha.Training;

/// <summary>Where a run stands: what a checkpoint header records and a resumed run continues from.</summary>
public sealed class TrainingPosition
{
    /// <summary>The epoch being trained (0-based).</summary>
    public int Epoch { get; set; }
    /// <summary>Steps of <see cref="Epoch"/> already done.</summary>
    public int StepInEpoch { get; set; }
    /// <summary>Optimizer steps taken (skipped NaN steps excluded).</summary>
    public long GlobalStep { get; set; }
    /// <summary>Training images shown (what schedules follow).</summary>
    public long ImagesSeen { get; set; }
    /// <summary>NaN or Inf steps skipped.</summary>
    public int SkippedSteps { get; set; }

    /// <summary>The start of a new run, or where <paramref name="from"/> stopped.</summary>
    public static TrainingPosition From(CheckpointHeader? from) => from is null ? new() : new()
    {
        Epoch = from.Epoch, StepInEpoch = from.StepInEpoch, GlobalStep = from.GlobalStep, ImagesSeen = from.ImagesSeen,
        SkippedSteps = from.SkippedSteps,
    };
}
