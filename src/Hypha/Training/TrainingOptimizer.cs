using Hypha.Models;

namespace Hypha.Training;

/// <summary>Picks the optimizer for a model: <see cref="FlatAdam"/> where every parameter gets a gradient every step,
/// TorchSharp's Adam (<see cref="TorchAdam"/>) for progressive models, whose blocks join training one by one and need
/// their own bias correction.</summary>
public static class TrainingOptimizer
{
    /// <summary>The optimizer for <paramref name="model"/>, made after the model is on its device.</summary>
    public static ITrainingOptimizer For(IVaeModel model, double lr) => model is IProgressiveModel
        ? new TorchAdam(model.Module.parameters(), lr)
        : new FlatAdam(model.Module.parameters(), lr);
}
