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

    /// <summary>Decodes latents in batches of <paramref name="batch"/>; returns images [N, C, H, W] on the CPU, float32.</summary>
    public static Tensor Decode(IVaeModel model, Tensor z, Device device, int batch = 256)
    {
        using var mode = new EvalMode(model);
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        for (long i = 0; i < z.shape[0]; i += batch)
        {
            using var scope = NewDisposeScope();
            var zb = z.narrow(0, i, Math.Min(batch, z.shape[0] - i)).to(device);
            parts.Add(model.Decode(zb).to_type(ScalarType.Float32).to(CPU).MoveToOuterDisposeScope());
        }
        var result = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return result;
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
