using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.Layers;

/// <summary>
/// TorchSharp has no autocast, so Hypha's layers read this thread's compute policy instead: inside
/// <c>using (Autocast.Enter(ScalarType.BFloat16, channelsLast: true))</c> convolutions and linear layers cast their
/// input and (fp32 master) weights to bf16 and run in channels-last (NHWC) layout; batch norm keeps fp32 statistics
/// and parameters. Gradients flow back through the casts into the fp32 parameters, so the optimizer and its state stay
/// fp32, as with PyTorch's <c>torch.autocast</c>. Outside any scope everything runs in fp32, NCHW.
/// </summary>
public static class Autocast
{
    [ThreadStatic] static Policy? _current;

    /// <summary>The policy in force on this thread.</summary>
    public static Policy Current => _current ?? Policy.Fp32;

    /// <summary>Sets a policy until the returned scope is disposed (scopes nest).</summary>
    public static IDisposable Enter(ScalarType dtype, bool channelsLast) => new Scope(new Policy(dtype, channelsLast));

    /// <summary>The compute dtype and memory layout of convolutions and linear layers.</summary>
    /// <param name="Dtype">Float32 (default) or BFloat16.</param>
    /// <param name="ChannelsLast">Convolution inputs and weights in NHWC strides (what cuDNN's fastest bf16 kernels want).</param>
    public sealed record Policy(ScalarType Dtype, bool ChannelsLast)
    {
        public static Policy Fp32 { get; } = new(ScalarType.Float32, false);

        /// <summary>Brings an activation to the compute dtype and layout.</summary>
        public Tensor Activation(Tensor x)
        {
            var y = x.dtype == Dtype ? x : x.to_type(Dtype);
            return ChannelsLast && y.dim() == 4 ? ToChannelsLast(y) : y;
        }

        /// <summary>Brings a (fp32 master) weight to the compute dtype and, for 4-d weights, the layout.</summary>
        public Tensor Weight(Tensor w)
        {
            var y = w.dtype == Dtype ? w : w.to_type(Dtype);
            return ChannelsLast && y.dim() == 4 ? ToChannelsLast(y) : y;
        }
    }

    /// <summary>NHWC strides for a 4-d tensor without a memory-format API: permute, copy, permute back (a no-op if already so).</summary>
    public static Tensor ToChannelsLast(Tensor x)
    {
        var s = x.stride();
        long c = x.shape[1], h = x.shape[2], w = x.shape[3];
        if (s[1] == 1 && s[3] == c && s[2] == w * c) return x;
        return x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
    }

    /// <summary>Stores <paramref name="model"/>'s convolution weights channels-last when <paramref name="channelsLast"/>
    /// and its family wants it (<see cref="ModelDescriptor.ChannelsLastWeights"/>; see <see cref="StoreChannelsLast"/>).</summary>
    public static void PrepareWeights(IGenerativeModel model, bool channelsLast)
    {
        if (channelsLast && ModelRegistry.Get(model.Kind).ChannelsLastWeights) StoreChannelsLast(model.Module);
    }

    /// <summary>Stores every 4-d parameter of <paramref name="module"/> channels-last, as PyTorch's
    /// <c>model.to(memory_format=torch.channels_last)</c> does, so that fp32 convolutions use the weights as they are
    /// instead of a channels-last copy per call. Values and names do not change; call it before the optimizer is made.</summary>
    public static void StoreChannelsLast(TorchSharp.torch.nn.Module module)
    {
        using var _ = no_grad();
        foreach (var p in module.parameters())
        {
            if (p.dim() != 4) continue;
            // The scope takes the permuted views and the contiguous copy's own handle, which would otherwise keep the
            // old copy of every weight alive until the GC ran (+94 MB peak on the thesis model).
            using var scope = NewDisposeScope();
            var nhwc = ToChannelsLast(p);
            if (!ReferenceEquals(nhwc, p)) p.set_(nhwc);
        }
    }

    sealed class Scope : IDisposable
    {
        readonly Policy? _previous = _current;

        public Scope(Policy policy) => _current = policy;

        public void Dispose() => _current = _previous;
    }
}
