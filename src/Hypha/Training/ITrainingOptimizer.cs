namespace Hypha.Training;

/// <summary>What the trainer needs of an optimizer: a learning rate it can schedule, the step, gradient clipping, and
/// its state in checkpoints.</summary>
public interface ITrainingOptimizer : IDisposable
{
    /// <summary>Names the state layout in checkpoints, so a resume refuses another optimizer's state.</summary>
    string Kind { get; }

    /// <summary>The learning rate of the next <see cref="Step"/>.</summary>
    double LearningRate { get; set; }

    /// <summary>Zeroes the gradients before a backward pass.</summary>
    void ZeroGrad();

    /// <summary>Scales the gradients down so their global L2 norm is at most <paramref name="maxNorm"/>.</summary>
    void ClipGradNorm(double maxNorm);

    /// <summary>Updates the parameters from their gradients.</summary>
    void Step();

    /// <summary>False when any parameter is NaN or infinite.</summary>
    bool WeightsFinite();

    /// <summary>Writes the optimizer state (moments, step counts) for a checkpoint.</summary>
    void Save(BinaryWriter w);

    /// <summary>Reads what <see cref="Save"/> wrote; throws <see cref="InvalidDataException"/> when it does not fit.</summary>
    void Load(BinaryReader r);
}
