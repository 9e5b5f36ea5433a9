using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.Diffusion;

/// <summary>
/// One reverse-process update rule over a fixed list of timesteps, as pure arithmetic (diffusers style): the caller
/// runs the network at <see cref="Timesteps"/>[k] on x_t and hands its output to <see cref="Step"/>, with fresh
/// standard normal noise when <see cref="NeedsNoise"/> says so.
/// </summary>
public interface IDiffusionSampler
{
    /// <summary>The timesteps visited, descending; the first is T - 1.</summary>
    IReadOnlyList<int> Timesteps { get; }

    /// <summary>Whether step k adds noise (then <see cref="Step"/> needs <c>z</c>).</summary>
    bool NeedsNoise(int k);

    /// <summary>x_{t_prev} and the clamped x0 estimate from the network output at step k: <see cref="Update"/> of
    /// <see cref="Estimate"/>.</summary>
    (Tensor Prev, Tensor X0) Step(Tensor output, int k, Tensor xt, Tensor? z);

    /// <summary>The x0 estimate the network output at step k implies, clamped to [-1, 1] (DDIM: to its clip bound, or
    /// not at all without one).</summary>
    Tensor Estimate(Tensor output, int k, Tensor xt);

    /// <summary>x_{t_prev} from an x0 estimate at step k. It is affine in <paramref name="x0"/> for fixed x_t and
    /// z, so the update of a weighted mean of estimates (weights summing to 1) is the weighted mean of their updates:
    /// what lets MultiDiffusion blend estimates instead of updates.</summary>
    Tensor Update(Tensor x0, int k, Tensor xt, Tensor? z);
}

/// <summary>
/// What the samplers share: the schedule, the respaced trailing timesteps, the x0 estimate (clamped to
/// [-<see cref="EstimateClip"/>, EstimateClip], or not at all when it is null) and <see cref="Step"/> as the
/// <see cref="Update"/> of that estimate. A sampler adds its update rule and when it needs noise.
/// </summary>
public abstract class DiffusionSampler : IDiffusionSampler
{
    protected readonly NoiseSchedule _schedule;
    protected readonly int[] _timesteps;

    protected DiffusionSampler(NoiseSchedule schedule, int steps)
    {
        _schedule = schedule;
        _timesteps = schedule.TrailingTimesteps(steps);
    }

    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <summary>Bound of the x0 estimate's clamp; null: no clamp.</summary>
    public abstract double? EstimateClip { get; }

    public abstract bool NeedsNoise(int k);

    public abstract Tensor Update(Tensor x0, int k, Tensor xt, Tensor? z);

    /// <summary>ab at step k and after it (1 after the last step).</summary>
    protected (double Ab, double AbPrev) AlphaBars(int k) =>
        (_schedule.AlphaBar[_timesteps[k]], k + 1 < _timesteps.Length ? _schedule.AlphaBar[_timesteps[k + 1]] : 1.0);

    public (Tensor Prev, Tensor X0) Step(Tensor output, int k, Tensor xt, Tensor? z)
    {
        using var scope = NewDisposeScope();
        var x0 = Estimate(output, k, xt);
        return (Update(x0, k, xt, z).MoveToOuterDisposeScope(), x0.MoveToOuterDisposeScope());
    }

    public Tensor Estimate(Tensor output, int k, Tensor xt)
    {
        using var scope = NewDisposeScope();
        var (x0, _) = _schedule.SplitAt(output, xt, _timesteps[k]);
        return (EstimateClip is { } c ? x0.clamp(-c, c) : x0).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// DDIM (Song et al. 2021) with trailing spacing: x0 clamped to [-clip, clip] (images: 1; no clamp when clip is null,
/// as for the latent-diffusion prior's unbounded latents), eps recomputed from the clamped x0,
/// sigma = eta sqrt((1 - ab_prev) / (1 - ab_t)) sqrt(1 - ab_t / ab_prev),
/// x_prev = sqrt(ab_prev) x0 + sqrt(1 - ab_prev - sigma^2) eps + sigma z, ab_prev = 1 after the last step.
/// Eta 0 (default) is deterministic.
/// </summary>
public sealed class DdimSampler : DiffusionSampler
{
    public double Eta { get; }

    /// <summary>Bound of the x0 estimate's clamp; null: no clamp.</summary>
    public double? Clip { get; }

    /// <param name="clip">Clamp the x0 estimate to [-clip, clip]; default 1 (images in [-1, 1]); null: no clamp.</param>
    public DdimSampler(NoiseSchedule schedule, int steps = 50, double eta = 0, double? clip = 1) : base(schedule, steps)
    {
        if (!(eta >= 0 && eta <= 1)) throw HyphaException.Config($"DDIM eta must be in [0, 1] (got {eta})");
        if (clip is { } c && !(c > 0)) throw new ArgumentOutOfRangeException(nameof(clip), c, "the clamp bound must be positive");
        Eta = eta;
        Clip = clip;
    }

    public override double? EstimateClip => Clip;

    public override bool NeedsNoise(int k) => Eta > 0 && k < _timesteps.Length - 1;

    public override Tensor Update(Tensor x0, int k, Tensor xt, Tensor? z)
    {
        using var scope = NewDisposeScope();
        var (ab, abPrev) = AlphaBars(k);
        var eps = (xt - Math.Sqrt(ab) * x0) / Math.Sqrt(1 - ab);
        var sigma = Eta * Math.Sqrt((1 - abPrev) / (1 - ab)) * Math.Sqrt(1 - ab / abPrev);
        var dirCoef = Math.Sqrt(Math.Max(0, 1 - abPrev - sigma * sigma));
        var prev = Math.Sqrt(abPrev) * x0 + dirCoef * eps;
        if (sigma > 0)
        {
            if (z is null) throw new ArgumentNullException(nameof(z), "DDIM with eta > 0 needs noise");
            prev = prev + sigma * z;
        }
        return prev.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Ancestral DDPM sampling (Ho et al. 2020) on the same respaced trailing timesteps as DDIM, as diffusers'
/// DDPMScheduler with num_inference_steps: with ab_t, ab_prev (1 after the last step), alpha = ab_t / ab_prev and
/// beta = 1 - alpha, the posterior q(x_prev | x_t, x0) has mean
/// sqrt(ab_prev) beta / (1 - ab_t) x0 + sqrt(alpha) (1 - ab_prev) / (1 - ab_t) x_t and variance
/// (1 - ab_prev) / (1 - ab_t) beta; x0 is clamped to [-1, 1]; noise is added at every step but the last.
/// </summary>
public sealed class DdpmSampler : DiffusionSampler
{
    public DdpmSampler(NoiseSchedule schedule, int steps = 50) : base(schedule, steps) { }

    public override double? EstimateClip => 1;

    public override bool NeedsNoise(int k) => k < _timesteps.Length - 1;

    public override Tensor Update(Tensor x0, int k, Tensor xt, Tensor? z)
    {
        using var scope = NewDisposeScope();
        var (ab, abPrev) = AlphaBars(k);
        var alpha = ab / abPrev;
        var beta = 1 - alpha;
        var mean = (Math.Sqrt(abPrev) * beta / (1 - ab)) * x0 + (Math.Sqrt(alpha) * (1 - abPrev) / (1 - ab)) * xt;
        if (NeedsNoise(k))
        {
            if (z is null) throw new ArgumentNullException(nameof(z), "DDPM needs noise before its last step");
            var variance = Math.Max((1 - abPrev) / (1 - ab) * beta, 1e-20);
            mean = mean + Math.Sqrt(variance) * z;
        }
        return mean.MoveToOuterDisposeScope();
    }
}

/// <summary>The reverse process of any diffusion network over data of any shape (image chunks, latent vectors).</summary>
public static class ReverseProcess
{
    /// <summary>
    /// Runs <paramref name="sampler"/> from x_T ~ N(0, I) of shape [n, ..<paramref name="shape"/>], row i drawn (and every
    /// later noise) from generator i, calling <paramref name="net"/>(x_t, t [n] int64) for its output at each step;
    /// returns x_0 on <paramref name="device"/>, float32. <paramref name="onStep"/> sees each step's x0 estimate.
    /// </summary>
    public static Tensor Run(IDiffusionSampler sampler, Func<Tensor, Tensor, Tensor> net, Generator[] generators, long[] shape,
        Device device, Action<int, Tensor>? onStep = null)
    {
        var n = generators.Length;
        var x = SampleNoise.Draw(generators, shape).to(device);
        for (var k = 0; k < sampler.Timesteps.Count; k++)
        {
            using var step = NewDisposeScope();
            var t = full(n, (long)sampler.Timesteps[k], ScalarType.Int64, device);
            var output = net(x, t).to_type(ScalarType.Float32);
            var z = sampler.NeedsNoise(k) ? SampleNoise.Draw(generators, shape).to(device) : null;
            var (prev, x0) = sampler.Step(output, k, x, z);
            onStep?.Invoke(k, x0);
            x.Dispose();
            x = prev.MoveToOuterDisposeScope();
        }
        return x;
    }
}

/// <summary>Per-sample random streams: sample i of a request draws x_T and every later noise from its own generator
/// seeded from (seed, index), so it does not depend on the batch it was made in or how many were asked for.</summary>
public static class SampleNoise
{
    /// <summary>splitmix64 of seed and index: a fixed, platform-independent mixing function.</summary>
    public static ulong SeedFor(long seed, long index)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)index + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return z & 0x7FFFFFFFFFFFFFFFUL; // positive as a long, for generators that take one
    }

    /// <summary>One CPU generator per sample index <paramref name="first"/> .. first + count - 1.</summary>
    public static Generator[] Generators(long seed, long first, int count) =>
        Enumerable.Range(0, count).Select(i => new Generator(SeedFor(seed, first + i))).ToArray();

    /// <summary>A [count, ...shape] standard normal draw, row i from generator i, float32 on the CPU.</summary>
    public static Tensor Draw(Generator[] generators, long[] shape)
    {
        using var scope = NewDisposeScope();
        var rows = generators.Select(g => randn(shape, ScalarType.Float32, generator: g)).ToArray();
        return stack(rows).MoveToOuterDisposeScope();
    }
}
