using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.Layers;

/// <summary>A Conv2d whose fp32 parameters are cast per call to the <see cref="Autocast"/> policy. Parameter names
/// (<c>weight</c>, <c>bias</c>) and initialization are those of <c>torch.nn.Conv2d</c>.</summary>
public sealed class AutocastConv2d : Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter? bias;
    readonly long _stride, _padding;

    /// <param name="stride">Default 1.</param>
    /// <param name="padding">Default 0.</param>
    /// <param name="hasBias">Default true.</param>
    public AutocastConv2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, bool hasBias = true) : base("Conv2d")
    {
        using var template = nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding, bias: hasBias);
        weight = new Parameter(template.weight!.detach().clone());
        if (hasBias) bias = new Parameter(template.bias!.detach().clone());
        (_stride, _padding) = (stride, padding);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var p = Autocast.Current;
        using var scope = NewDisposeScope(); // cast copies of input and weight go as soon as the convolution is recorded
        var y = nn.functional.conv2d(p.Activation(x), p.Weight(weight), bias is null ? null : p.Weight(bias),
            strides: [_stride, _stride], padding: [_padding, _padding]);
        // Some CPU kernels answer channels-last input with channels-first output; converting here keeps one layout
        // downstream, so batch norm does not save one copy for backward while the next convolution saves another.
        return (p.ChannelsLast ? Autocast.ToChannelsLast(y) : y).MoveToOuterDisposeScope();
    }
}
