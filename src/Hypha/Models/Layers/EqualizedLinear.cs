using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.Layers;

/// <summary>
/// A fully connected layer with an optional equalized learning rate: with <c>equalized</c> the weights are drawn
/// from N(0, 1) and multiplied at run time by <c>gain / sqrt(in_features)</c>, the bias starts at 0; without it, an
/// ordinary linear layer with PyTorch's default initialization (uniform in +-1/sqrt(in_features)) and a scale of 1.
/// Parameter names are PyTorch's (<c>weight</c> [out, in], <c>bias</c>).
/// </summary>
public sealed class EqualizedLinear : Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter bias;

    /// <summary>The run-time weight multiplier: <c>gain / sqrt(in_features)</c> when equalized, else 1.</summary>
    public double Scale { get; }

    /// <summary>Whether the weights are scaled at run time.</summary>
    public bool Equalized { get; }

    /// <param name="equalized">Scale weights at run time by He's constant; default true.</param>
    /// <param name="gain">He's gain; default sqrt(2); use 1 for linear outputs such as the posterior heads.</param>
    public EqualizedLinear(int inFeatures, int outFeatures, bool equalized = true, double gain = 1.4142135623730951)
        : base(nameof(EqualizedLinear))
    {
        Equalized = equalized;
        Scale = equalized ? gain / Math.Sqrt(inFeatures) : 1.0;
        var bound = 1.0 / Math.Sqrt(inFeatures);
        using (no_grad())
        {
            weight = Parameter(equalized ? randn(outFeatures, inFeatures) : empty(outFeatures, inFeatures).uniform_(-bound, bound));
            bias = Parameter(equalized ? zeros(outFeatures) : empty(outFeatures).uniform_(-bound, bound));
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var w = Equalized ? weight * Scale : weight;
        return functional.linear(x, w, bias).MoveToOuterDisposeScope();
    }
}
