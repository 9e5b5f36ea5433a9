using Hypha.Data;
using Hypha.Models;
using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>
/// One optimizer step: augment the batch, ask the model for its loss, skip a NaN or infinite loss (and stop after
/// <see cref="TrainOptions.MaxBadSteps"/> in a row), backward, clip, step, then the second network's step when the
/// model hands one over (<see cref="LossTerms.Auxiliary"/>, a VAE's discriminator), then the model's after-step work (EMA).
/// Everything the step allocates is freed when it returns (TorchSharp leaves temporaries to the GC otherwise: memory
/// grew 60 MB a step).
/// </summary>
public sealed class TrainingStep(IGenerativeModel model, ITrainingOptimizer optimizer, TrainOptions options, AuxiliaryTraining? auxiliary = null)
{
    readonly IStepHook? _hook = model.As<IStepHook>();
    int _badInARow;

    /// <summary>Trains on <paramref name="x"/> (a batch at the model's resolution) and advances
    /// <paramref name="position"/>; returns the reported terms, or null when the step was skipped. Throws a
    /// <see cref="ExitCode.Diverged"/> error through <paramref name="diverged"/> after too many bad steps in a row.</summary>
    public Dictionary<string, double>? Run(Tensor x, TrainingPosition position, double lr, Func<string, Exception> diverged)
    {
        x = Augmentation.Apply(x, options.Augment);
        var terms = model.Loss(x, new LossContext(position.ImagesSeen));
        optimizer.LearningRate = lr;
        var objective = terms.Objective.item<float>();
        if (!float.IsFinite(objective))
        {
            position.SkippedSteps++;
            if (++_badInARow >= options.MaxBadSteps)
                throw diverged($"the loss was NaN or infinite for {_badInARow} steps in a row");
            return null;
        }
        _badInARow = 0;
        optimizer.ZeroGrad();
        terms.Objective.backward();
        if (options.GradClip > 0) optimizer.ClipGradNorm(options.GradClip);
        optimizer.Step();
        var values = terms.Values();
        if (terms.Auxiliary is { } second)
        {
            if (auxiliary is null) throw new InvalidOperationException($"the model ({model.Kind}) handed over a second network's loss but has none to train");
            // The second network follows the run's learning-rate schedule.
            foreach (var (k, v) in auxiliary.Step(second, lr / options.Lr)) values[k] = v;
        }
        position.ImagesSeen += x.shape[0];
        position.GlobalStep++;
        _hook?.AfterStep(position.GlobalStep);
        return values;
    }
}
