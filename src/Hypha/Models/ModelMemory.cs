namespace Hypha.Models;

/// <summary>
/// The memory a model needs, estimated from its options before anything is allocated
/// (<see cref="ModelDescriptor.EstimateMemory"/>), so that <c>--width 100000</c> is refused with a figure instead of
/// failing inside libtorch. Counts are exact for the parameters (tests compare them with built models); activations
/// are an estimate: the tensors one training forward pass leaves for the backward pass (each convolution's output,
/// which the normalization after it needs; each activation function's output or input, as its backward needs; resized and
/// concatenated maps; attention weights), float32. Measured against the peak memory of real training steps in
/// docs/decisions.md ("Reliability, part 2").
/// </summary>
/// <param name="Parameters">Trainable parameters.</param>
/// <param name="StateBytes">Everything the model holds while it exists, in float32: parameters, frozen copies (EMA
/// weights) and buffers (batch-norm statistics).</param>
/// <param name="ActivationBytesPerImage">Activations a training step keeps per image of the batch, in float32.</param>
public sealed record ModelMemory(long Parameters, long StateBytes, long ActivationBytesPerImage)
{
    /// <summary>Bytes per trainable parameter that training adds to the model: its gradient and Adam's two moments.</summary>
    public const int TrainingBytesPerParameter = 12;

    /// <summary>Gradients and optimizer state.</summary>
    public long OptimizerBytes => Saturate((double)Parameters * TrainingBytesPerParameter);

    /// <summary>What training at <paramref name="batch"/> needs: the model, gradients and Adam state, and the batch's activations.</summary>
    public long TrainingBytes(int batch) => Saturate((double)StateBytes + OptimizerBytes + (double)ActivationBytesPerImage * batch);

    /// <summary>A count in double precision as bytes, capped at <see cref="long.MaxValue"/> (widths of 10^5 overflow 64 bits).</summary>
    public static long Saturate(double value) => value >= long.MaxValue ? long.MaxValue : (long)Math.Max(0, value);
}

/// <summary>Adds up parameters, buffers and kept activation elements layer by layer, in double precision (no overflow
/// for absurd widths), for the families' <see cref="ModelDescriptor.EstimateMemory"/>. A convolution counts its output
/// (the normalization after it keeps it); a normalization counts none (what it keeps is its input); every other kept
/// tensor is an <see cref="Activation"/>.</summary>
public sealed class MemoryTally
{
    double _parameters, _frozen, _buffers, _activations;

    /// <summary>A convolution (or transposed convolution) with a <paramref name="kernel"/>-square kernel, whose output is <paramref name="outChannels"/> x <paramref name="side"/>^2.</summary>
    public MemoryTally Conv(double inChannels, double outChannels, int kernel, bool bias, double side)
    {
        _parameters += inChannels * outChannels * kernel * kernel + (bias ? outChannels : 0);
        return Activation(outChannels, side);
    }

    /// <summary>Trainable parameters that are no layer of the kinds above (a learned image, an embedding).</summary>
    public MemoryTally Weights(double count)
    {
        _parameters += count;
        return this;
    }

    /// <summary>A fully connected layer with a bias.</summary>
    public MemoryTally Linear(double inFeatures, double outFeatures, bool bias = true)
    {
        _parameters += inFeatures * outFeatures + (bias ? outFeatures : 0);
        _activations += outFeatures;
        return this;
    }

    /// <summary>A batch norm: scale and shift, running mean and variance.</summary>
    public MemoryTally BatchNorm(double channels)
    {
        _parameters += 2 * channels;
        _buffers += 2 * channels + 2; // and num_batches_tracked (int64)
        return this;
    }

    /// <summary>A group norm: scale and shift.</summary>
    public MemoryTally GroupNorm(double channels)
    {
        _parameters += 2 * channels;
        return this;
    }

    /// <summary>A kept map of <paramref name="channels"/> x <paramref name="side"/>^2: the output of a ReLU, a pooling or a
    /// resize, a normalization's output that a SiLU keeps, a concatenation.</summary>
    public MemoryTally Activation(double channels, double side)
    {
        _activations += channels * side * side;
        return this;
    }

    /// <summary>A buffer of <paramref name="bytes"/> that is no parameter (a progress counter).</summary>
    public MemoryTally Buffer(double bytes)
    {
        _buffers += bytes / 4;
        return this;
    }

    /// <summary>Any other kept tensor, in elements per image (attention weights).</summary>
    public MemoryTally Elements(double count)
    {
        _activations += count;
        return this;
    }

    /// <summary>Everything tallied so far once more as frozen state (an EMA copy of the weights).</summary>
    public MemoryTally FrozenCopy()
    {
        _frozen += _parameters + _buffers;
        return this;
    }

    /// <summary>The estimate, float32 throughout.</summary>
    public ModelMemory Result() => new(
        ModelMemory.Saturate(_parameters),
        ModelMemory.Saturate((_parameters + _frozen + _buffers) * 4),
        ModelMemory.Saturate(_activations * 4));
}
