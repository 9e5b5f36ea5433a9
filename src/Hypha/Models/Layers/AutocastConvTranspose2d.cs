using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.Layers;

/// <summary>A ConvTranspose2d whose fp32 parameters are cast per call to the <see cref="Autocast"/> policy. Parameter
/// names and initialization are those of <c>torch.nn.ConvTranspose2d</c>.</summary>
public sealed class AutocastConvTranspose2d : Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter? bias;
    readonly long _stride, _padding, _outputPadding;

    /// <param name="stride">Default 1.</param>
    /// <param name="padding">Default 0.</param>
    /// <param name="outputPadding">Default 0.</param>
    /// <param name="hasBias">Default true.</param>
    public AutocastConvTranspose2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, long outputPadding = 0, bool hasBias = true)
        : base("ConvTranspose2d")
    {
        using var template = nn.ConvTranspose2d(inChannels, outChannels, kernel, stride: stride, padding: padding, output_padding: outputPadding, bias: hasBias);
        weight = new Parameter(template.weight!.detach().clone());
        if (hasBias) bias = new Parameter(template.bias!.detach().clone());
        (_stride, _padding, _outputPadding) = (stride, padding, outputPadding);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var p = Autocast.Current;
        using var scope = NewDisposeScope(); // cast copies of input and weight go as soon as the convolution is recorded
        var y = nn.functional.conv_transpose2d(p.Activation(x), p.Weight(weight), bias is null ? null : p.Weight(bias),
            strides: [_stride, _stride], padding: [_padding, _padding], output_padding: [_outputPadding, _outputPadding]);
        // Some CPU kernels answer channels-last input with channels-first output; converting here keeps one layout
        // downstream, so batch norm does not save one copy for backward while the next convolution saves another.
        return (p.ChannelsLast ? Autocast.ToChannelsLast(y) : y).MoveToOuterDisposeScope();
    }
}
