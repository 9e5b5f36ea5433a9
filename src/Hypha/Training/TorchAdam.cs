using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hypha.Training;

/// <summary>TorchSharp's <c>optim.Adam</c> (per-parameter state and step counts) behind <see cref="ITrainingOptimizer"/>:
/// for models whose parameters do not all receive a gradient every step (the progressive VAE's growing blocks).</summary>
public sealed class TorchAdam : ITrainingOptimizer
{
    readonly Parameter[] _parameters;
    readonly optim.Optimizer _adam;

    /// <summary>Adam with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay.</summary>
    public TorchAdam(IEnumerable<Parameter> parameters, double lr)
    {
        _parameters = parameters.ToArray();
        _adam = optim.Adam(_parameters, lr, beta1: 0.9, beta2: 0.999, eps: 1e-8);
    }

    public string Kind => "torch_adam";

    public double LearningRate
    {
        get => _adam.ParamGroups.First().LearningRate;
        set { foreach (var group in _adam.ParamGroups) group.LearningRate = value; }
    }

    public void ZeroGrad() => _adam.zero_grad();

    public void ClipGradNorm(double maxNorm) => nn.utils.clip_grad_norm_(_parameters, maxNorm);

    public void Step() => _adam.step();

    public bool WeightsFinite()
    {
        using var scope = NewDisposeScope();
        return _parameters.All(p => isfinite(p).all().item<bool>());
    }

    public void Save(BinaryWriter w) => ((OptimizerHelper)_adam).save_state_dict(w);

    public void Load(BinaryReader r) => ((OptimizerHelper)_adam).load_state_dict(r);

    public void Dispose() => _adam.Dispose();
}
