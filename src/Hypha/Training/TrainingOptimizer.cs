using Hypha.Models;

namespace Hypha.Training;

/// <summary>Picks the optimizer a model's family prefers (<see cref="ModelDescriptor.Optimizer"/>): <see cref="FlatAdam"/>
/// where every parameter gets a gradient every step, TorchSharp's Adam (<see cref="TorchAdam"/>) for progressive
/// models, whose blocks join training one by one and need their own bias correction. Only parameters that require
/// gradients are optimized (an EMA copy is not).</summary>
public static class TrainingOptimizer
{
    /// <summary>The optimizer for <paramref name="model"/>, made after the model is on its device.</summary>
    public static ITrainingOptimizer For(IGenerativeModel model, double lr)
    {
        var parameters = model.Module.parameters().Where(p => p.requires_grad).ToList();
        return ModelRegistry.Get(model.Kind).Optimizer == OptimizerPreference.PerParameterAdam
            ? new TorchAdam(parameters, lr)
            : new FlatAdam(parameters, lr);
    }
}
