using Hypha.Models;

namespace Hypha.Training;

/// <summary>Where training stood when a checkpoint was written, and what model it holds.</summary>
/// <param name="Format">Checkpoint layout version (see <see cref="Checkpoint.CurrentFormat"/>).</param>
/// <param name="Model">The model settings the weights belong to.</param>
/// <param name="Channels">Image channels of the model.</param>
/// <param name="ChunkSize">Chunk side the run trains on.</param>
/// <param name="Epoch">The epoch to continue with (0-based).</param>
/// <param name="StepInEpoch">Steps of <paramref name="Epoch"/> already done.</param>
/// <param name="GlobalStep">Optimizer steps taken (skipped NaN steps excluded).</param>
/// <param name="ImagesSeen">Training images shown so far (what progressive schedules are derived from).</param>
/// <param name="SkippedSteps">NaN or Inf steps skipped so far.</param>
/// <param name="Complete">True once the last epoch has finished.</param>
public sealed record CheckpointHeader(
    int Format, ModelOptions Model, int Channels, int ChunkSize,
    int Epoch, int StepInEpoch, long GlobalStep, long ImagesSeen, int SkippedSteps, bool Complete, DateTime WrittenUtc);
