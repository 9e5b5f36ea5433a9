using Hypha.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Sampling;

/// <summary>Decoding from the prior and reconstructing through the posterior mean, without gradients and in eval mode.</summary>
public static class Generation
{
    /// <summary>Latents z ~ N(0, I) of shape [count, L] from a seeded generator (the global RNG is left alone).</summary>
    public static Tensor PriorLatents(int count, int latent, long seed)
    {
        using var gen = new Generator((ulong)seed);
        return randn([count, latent], generator: gen);
    }

    /// <summary>Decodes latents in batches of <paramref name="batch"/>; returns images [N, C, H, W] on the CPU, float32.
    /// Each batch is copied once, straight into its rows of the result (no per-batch host tensors, no concatenation).</summary>
    public static Tensor Decode(IVaeModel model, Tensor z, Device device, int batch = 256)
    {
        var count = z.shape[0];
        if (count == 0) throw new ArgumentException("no latents to decode", nameof(z));
        using var mode = new EvalMode(model);
        using var noGrad = no_grad();
        Tensor? result = null;
        for (long i = 0; i < count; i += batch)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(batch, count - i);
            var images = model.Decode(z.narrow(0, i, length).to(device));
            result ??= empty([count, .. images.shape[1..]], ScalarType.Float32, CPU).MoveToOuterDisposeScope();
            result.narrow(0, i, length).copy_(images); // converts bf16 and channels-last, and leaves the device, in one copy
        }
        return result!;
    }

    /// <summary>Reconstructs x (on any device) through the posterior mean: decode(mu(x)). Returns the result on x's device.</summary>
    public static Tensor Reconstruct(IVaeModel model, Tensor x)
    {
        using var mode = new EvalMode(model);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (mu, _) = model.Encode(x);
        return model.Decode(mu).MoveToOuterDisposeScope();
    }

    /// <summary>Switches a model to eval mode and back to the mode it had.</summary>
    public readonly struct EvalMode : IDisposable
    {
        readonly IVaeModel _model;
        readonly bool _wasTraining;

        public EvalMode(IVaeModel model)
        {
            _model = model;
            _wasTraining = model.Module.training;
            model.Module.eval();
        }

        public void Dispose()
        {
            if (_wasTraining) _model.Module.train();
        }
    }
}
