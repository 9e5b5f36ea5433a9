using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hypha.Models.Diffusion;

/// <summary>
/// Exponential moving average of a network's parameters held in a second network of the same shape: after optimizer
/// step n (1-based), ema = d ema + (1 - d) online with d = min(decay, (1 + n) / (10 + n)) (the warm-up keeps the
/// first, random weights from dominating the average of a short run). The copy's parameters never require gradients.
/// </summary>
public static class Ema
{
    /// <summary>The decay used after step <paramref name="step"/>: min(decay, (1 + step) / (10 + step)).</summary>
    public static double DecayAt(double decay, long step) => Math.Min(decay, (1.0 + step) / (10.0 + step));

    /// <summary>Copies <paramref name="online"/>'s parameters and buffers into <paramref name="ema"/> and freezes ema's.</summary>
    public static void Initialize(nn.Module online, nn.Module ema)
    {
        using var _ = no_grad();
        foreach (var (target, source) in Pairs(online, ema))
        {
            target.copy_(source);
            if (target is Parameter p) p.requires_grad = false;
        }
    }

    /// <summary>ema.lerp_(online, 1 - d) for every parameter, d = <see cref="DecayAt"/>; one kernel per tensor and no host
    /// synchronization (the weight is a host scalar).</summary>
    public static void Update(nn.Module online, nn.Module ema, double decay, long step)
    {
        var weight = 1 - DecayAt(decay, step);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (target, source) in Pairs(online, ema)) target.lerp_(source, weight);
    }

    /// <summary>(ema tensor, online tensor) pairs by name: parameters, then buffers.</summary>
    static IEnumerable<(Tensor Target, Tensor Source)> Pairs(nn.Module online, nn.Module ema)
    {
        var src = online.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        foreach (var (name, p) in ema.named_parameters())
            yield return (p, src.TryGetValue(name, out var s) ? s : throw new InvalidOperationException($"EMA parameter {name} has no online twin"));
        var bufs = online.named_buffers().ToDictionary(p => p.name, p => p.buffer);
        foreach (var (name, b) in ema.named_buffers())
            yield return (b, bufs[name]);
    }
}
