using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.Layers;

/// <summary>A Linear layer whose fp32 parameters are cast per call to the <see cref="Autocast"/> dtype. Parameter
/// names and initialization are those of <c>torch.nn.Linear</c>.</summary>
public sealed class AutocastLinear : Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter bias;

    public AutocastLinear(long inFeatures, long outFeatures) : base("Linear")
    {
        using var template = nn.Linear(inFeatures, outFeatures);
        weight = new Parameter(template.weight.detach().clone());
        bias = new Parameter(template.bias!.detach().clone());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var dtype = Autocast.Current.Dtype;
        var xs = x.dtype == dtype ? x : x.to_type(dtype);
        return nn.functional.linear(xs, weight.to_type(dtype), bias.to_type(dtype));
    }
}
