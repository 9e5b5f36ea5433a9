using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.Layers;

/// <summary>
/// A 2-D convolution with an optional equalized learning rate (ProGAN, Karras et al. 2018): with
/// <c>equalized</c> the weights are drawn from N(0, 1) and multiplied at run time by He's constant
/// <c>gain / sqrt(fan_in)</c>, <c>fan_in = in_channels * kernel * kernel</c>, so that Adam's per-parameter step size
/// means the same for every layer; the bias starts at 0. Without it, the layer is an ordinary convolution with
/// PyTorch's default initialization (uniform in +-1/sqrt(fan_in) for weight and bias) and a scale of 1.
/// Parameter names are PyTorch's (<c>weight</c>, <c>bias</c>).
/// </summary>
public sealed class EqualizedConv2d : Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter? bias;
    readonly long _stride, _padding;

    /// <summary>The run-time weight multiplier: <c>gain / sqrt(fan_in)</c> when equalized, else 1.</summary>
    public double Scale { get; }

    /// <summary>Whether the weights are scaled at run time.</summary>
    public bool Equalized { get; }

    /// <param name="kernel">Square kernel side.</param>
    /// <param name="stride">Default 1.</param>
    /// <param name="padding">Default 0.</param>
    /// <param name="bias">Default true.</param>
    /// <param name="equalized">Scale weights at run time by He's constant; default true.</param>
    /// <param name="gain">He's gain; default sqrt(2) (layers followed by a ReLU); use 1 for linear outputs.</param>
    public EqualizedConv2d(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0, bool bias = true,
        bool equalized = true, double gain = 1.4142135623730951) : base(nameof(EqualizedConv2d))
    {
        Equalized = equalized;
        _stride = stride;
        _padding = padding;
        double fanIn = (double)inChannels * kernel * kernel;
        Scale = equalized ? gain / Math.Sqrt(fanIn) : 1.0;
        var bound = 1.0 / Math.Sqrt(fanIn);
        using (no_grad())
        {
            weight = Parameter(equalized
                ? randn(outChannels, inChannels, kernel, kernel)
                : empty(outChannels, inChannels, kernel, kernel).uniform_(-bound, bound));
            if (bias)
                this.bias = Parameter(equalized ? zeros(outChannels) : empty(outChannels).uniform_(-bound, bound));
        }
        RegisterComponents();
    }

    /// <summary>The weight as the convolution uses it (already multiplied by <see cref="Scale"/>).</summary>
    public Tensor EffectiveWeight() => Equalized ? weight * Scale : weight.alias();

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var w = Equalized ? weight * Scale : weight;
        return functional.conv2d(x, w, bias, strides: [_stride, _stride], padding: [_padding, _padding]).MoveToOuterDisposeScope();
    }
}
