namespace Hypha.Models;

/// <summary>
/// A model whose forward path depends on how far training has gone (the progressive VAE). The trainer calls
/// <see cref="Advance"/> before every step and once after loading a checkpoint; <see cref="Extras"/> go into
/// metrics.csv and TensorBoard. Its parameter set does not depend on the stage, so a checkpoint loads the same way
/// at every stage; the position itself is part of the state dict, so a loaded model is at the stage it was saved at.
/// </summary>
public interface IProgressiveModel : IVaeModel
{
    /// <summary>Number of stages (resolutions) from the start resolution to the chunk size.</summary>
    int Stages { get; }

    /// <summary>Current stage, 0 at the start resolution.</summary>
    int Stage { get; }

    /// <summary>Weight of the newest block's path (1 - alpha for the old, resized path); 1 outside fades.</summary>
    double Alpha { get; }

    /// <summary>Epochs at each stage; a run needs <c>Stages x EpochsPerStage</c> epochs to reach the chunk size.</summary>
    int EpochsPerStage { get; }

    /// <summary>Sets the stage and alpha from the number of training images shown.</summary>
    void Advance(long imagesSeen, long imagesPerEpoch);

    /// <summary>Extra metrics columns: <c>stage</c>, <c>alpha</c> and <c>resolution</c>.</summary>
    IReadOnlyDictionary<string, double> Extras { get; }
}
