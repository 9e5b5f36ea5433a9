using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Models.Layers;

/// <summary>
/// Minibatch standard deviation (ProGAN): the standard deviation of every feature at every pixel over the batch,
/// <c>sqrt(var + epsilon)</c> (population variance, epsilon 1e-8), averaged into one number and appended as a
/// constant extra channel, so a layer can see how varied the batch is. Output has one channel more than the input.
/// The statistic is taken over the whole batch (group size = batch); a batch of one gives sqrt(epsilon).
/// </summary>
public sealed class MinibatchStdDev : Module<Tensor, Tensor>
{
    /// <summary>Added to the variance before the square root; default 1e-8.</summary>
    public double Epsilon { get; }

    public MinibatchStdDev(double epsilon = 1e-8) : base(nameof(MinibatchStdDev)) => Epsilon = epsilon;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var std = (x.var(0, unbiased: false) + Epsilon).sqrt().mean();
        var channel = std.expand(x.shape[0], 1, x.shape[2], x.shape[3]);
        return cat([x, channel], 1).MoveToOuterDisposeScope();
    }
}
