using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.Layers;

/// <summary>
/// BatchNorm2d whose parameters and running statistics always stay fp32, whatever the <see cref="Autocast"/> dtype of
/// its input (libtorch's batch norm takes a bf16 input with fp32 statistics); the output has the input's dtype.
/// Names and defaults (eps 1e-5, momentum 0.1) are those of <c>torch.nn.BatchNorm2d</c>.
/// </summary>
public sealed class Fp32BatchNorm2d : Module<Tensor, Tensor>
{
    readonly Parameter weight, bias;
    readonly Tensor running_mean, running_var, num_batches_tracked;
    const double Momentum = 0.1, Eps = 1e-5;

    public Fp32BatchNorm2d(long features) : base("BatchNorm2d")
    {
        weight = new Parameter(ones(features));
        bias = new Parameter(zeros(features));
        running_mean = zeros(features);
        running_var = ones(features);
        num_batches_tracked = zeros([], ScalarType.Int64);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (training)
            using (no_grad()) num_batches_tracked.add_(1);
        return nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training, Momentum, Eps);
    }
}
