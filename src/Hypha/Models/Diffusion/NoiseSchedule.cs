using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.Diffusion;

/// <summary>How beta_t grows with t.</summary>
public enum ScheduleKind
{
    /// <summary>Nichol and Dhariwal 2021: alpha_bar follows cos^2 of (t/T + 0.008) / 1.008 * pi/2, betas capped at 0.999.</summary>
    Cosine,

    /// <summary>Ho et al. 2020: betas linspace(1e-4, 0.02, T).</summary>
    Linear,
}

/// <summary>What the network predicts.</summary>
public enum PredictionKind
{
    /// <summary>v = sqrt(alpha_bar) eps - sqrt(1 - alpha_bar) x0 (Salimans and Ho 2022).</summary>
    V,

    /// <summary>The noise eps (Ho et al. 2020).</summary>
    Epsilon,
}

/// <summary>
/// The forward process q(x_t | x0) = N(sqrt(ab_t) x0, (1 - ab_t) I), ab_t = prod_{s &lt;= t} (1 - beta_s), for t in
/// [0, T), and the conversions between a network's output (v or eps) and (x0, eps). Pure arithmetic (no network):
/// computed in float64 on the host, held as float32 tensors per device. Works on any data of shape [B, ...]: images
/// [B, C, H, W] for the diffusion model, latent vectors [B, L] for the latent-diffusion prior.
/// </summary>
public sealed class NoiseSchedule
{
    readonly Dictionary<(DeviceType, int), Tensor> _sqrtAb = [], _sqrtOneMinusAb = [];
    readonly object _gate = new();

    /// <summary>Number of diffusion steps T.</summary>
    public int T { get; }

    public ScheduleKind Kind { get; }

    public PredictionKind Prediction { get; }

    /// <summary>beta_t, float64.</summary>
    public IReadOnlyList<double> Betas { get; }

    /// <summary>alpha_bar_t = prod_{s &lt;= t} (1 - beta_s), float64.</summary>
    public IReadOnlyList<double> AlphaBar { get; }

    public NoiseSchedule(int timesteps = 1000, ScheduleKind kind = ScheduleKind.Cosine, PredictionKind prediction = PredictionKind.V)
    {
        if (timesteps < 2) throw HyphaException.Config($"diffusion timesteps must be at least 2 (got {timesteps})");
        (T, Kind, Prediction) = (timesteps, kind, prediction);
        var betas = kind == ScheduleKind.Cosine ? CosineBetas(timesteps) : LinearBetas(timesteps);
        var ab = new double[timesteps];
        double prod = 1;
        for (var t = 0; t < timesteps; t++) ab[t] = prod *= 1 - betas[t];
        Betas = betas;
        AlphaBar = ab;
    }

    /// <summary>betas_t = min(1 - f(t+1)/f(t), 0.999), f(t) = cos(((t/T) + 0.008) / 1.008 * pi/2)^2.</summary>
    public static double[] CosineBetas(int T)
    {
        static double F(double t, int T) => Math.Pow(Math.Cos((t / T + 0.008) / 1.008 * Math.PI / 2), 2);
        return Enumerable.Range(0, T).Select(t => Math.Min(1 - F(t + 1, T) / F(t, T), 0.999)).ToArray();
    }

    /// <summary>linspace(1e-4, 0.02, T).</summary>
    public static double[] LinearBetas(int T) =>
        Enumerable.Range(0, T).Select(t => 1e-4 + (0.02 - 1e-4) * t / (T - 1)).ToArray();

    /// <summary>sqrt(ab_t) and sqrt(1 - ab_t) for timesteps [B] (int64, any device), shaped [B, 1, 1, 1], float32.</summary>
    public (Tensor SqrtAb, Tensor SqrtOneMinusAb) Coefficients(Tensor t) => Coefficients(t, 4);

    /// <summary>As <see cref="Coefficients(Tensor)"/>, shaped [B, 1, ...] with <paramref name="rank"/> dimensions in all,
    /// to broadcast over data of that rank.</summary>
    public (Tensor SqrtAb, Tensor SqrtOneMinusAb) Coefficients(Tensor t, long rank)
    {
        var (a, b) = Tables(t.device);
        var idx = t.to_type(ScalarType.Int64);
        long[] shape = [-1, .. Enumerable.Repeat(1L, (int)Math.Max(0, rank - 1))];
        return (a.index_select(0, idx).reshape(shape), b.index_select(0, idx).reshape(shape));
    }

    (Tensor, Tensor) Tables(Device device)
    {
        var key = (device.type, device.index);
        lock (_gate)
        {
            if (!_sqrtAb.TryGetValue(key, out var a))
            {
                a = tensor(AlphaBar.Select(Math.Sqrt).Select(v => (float)v).ToArray()).to(device).DetachFromDisposeScope();
                var b = tensor(AlphaBar.Select(v => (float)Math.Sqrt(1 - v)).ToArray()).to(device).DetachFromDisposeScope();
                _sqrtAb[key] = a;
                _sqrtOneMinusAb[key] = b;
            }
            return (a, _sqrtOneMinusAb[key]);
        }
    }

    /// <summary>x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps.</summary>
    public Tensor AddNoise(Tensor x0, Tensor eps, Tensor t)
    {
        using var scope = NewDisposeScope();
        var (a, b) = Coefficients(t, x0.dim());
        return (a * x0 + b * eps).MoveToOuterDisposeScope();
    }

    /// <summary>What the network should output for (x0, eps) at t: eps, or v = sqrt(ab) eps - sqrt(1 - ab) x0.</summary>
    public Tensor Target(Tensor x0, Tensor eps, Tensor t)
    {
        if (Prediction == PredictionKind.Epsilon) return eps.alias();
        using var scope = NewDisposeScope();
        var (a, b) = Coefficients(t, x0.dim());
        return (a * eps - b * x0).MoveToOuterDisposeScope();
    }

    /// <summary>(x0, eps) from the network's output at x_t, t.</summary>
    public (Tensor X0, Tensor Eps) Split(Tensor output, Tensor xt, Tensor t)
    {
        using var scope = NewDisposeScope();
        var (a, b) = Coefficients(t, xt.dim());
        Tensor x0, eps;
        if (Prediction == PredictionKind.V)
        {
            x0 = a * xt - b * output;
            eps = b * xt + a * output;
        }
        else
        {
            x0 = (xt - b * output) / a;
            eps = output.alias();
        }
        return (x0.MoveToOuterDisposeScope(), eps.MoveToOuterDisposeScope());
    }

    /// <summary><see cref="Split"/> at one timestep for the whole batch (host coefficients, float64 arithmetic constants).</summary>
    public (Tensor X0, Tensor Eps) SplitAt(Tensor output, Tensor xt, int t)
    {
        double a = Math.Sqrt(AlphaBar[t]), b = Math.Sqrt(1 - AlphaBar[t]);
        return Prediction == PredictionKind.V
            ? (a * xt - b * output, b * xt + a * output)
            : ((xt - b * output) / a, output.alias());
    }

    /// <summary>eps implied by x_t and an x0 estimate: (x_t - sqrt(ab) x0) / sqrt(1 - ab).</summary>
    public Tensor EpsFromX0(Tensor xt, Tensor x0, Tensor t)
    {
        using var scope = NewDisposeScope();
        var (a, b) = Coefficients(t, xt.dim());
        return ((xt - a * x0) / b).MoveToOuterDisposeScope();
    }

    /// <summary>S timesteps with "trailing" spacing, descending: round(arange(T, 0, -T/S)) - 1 (the first is T - 1).</summary>
    public int[] TrailingTimesteps(int steps)
    {
        if (steps < 1 || steps > T) throw HyphaException.Config($"denoising steps must be in 1..{T} (got {steps})");
        var ratio = (double)T / steps;
        var result = new int[steps];
        for (var k = 0; k < steps; k++) result[k] = (int)Math.Round(T - k * ratio, MidpointRounding.ToEven) - 1;
        return result;
    }
}
