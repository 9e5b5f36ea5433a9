using System.Diagnostics;
using Hypha.Models;
using Hypha.Models.Diffusion;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hypha.Sampling.Priors;

/// <summary>How the latent-diffusion prior is built and trained. The defaults train the MLP in about 2 minutes of one CPU
/// core for the cpu preset's 64-dimensional latents, the U-Net in about 80 for autoencoder-kl-cpu's 4 x 16 x 16
/// (measured in docs/evaluation-amf.md).</summary>
public sealed record LatentDiffusionOptions
{
    /// <summary>The denoising network; default <see cref="LatentDenoiserKind.Auto"/>: a U-Net for a latent that is a
    /// small image (the KL autoencoder's), an MLP for a latent vector (the other VAEs').</summary>
    public LatentDenoiserKind Denoiser { get; init; } = LatentDenoiserKind.Auto;

    /// <summary>Width (even) of the MLP's hidden layers, or the U-Net's base channels; default 0: the denoiser's
    /// default (<see cref="DefaultsOf"/>), 256 for the MLP and 32 for the U-Net.</summary>
    public int Width { get; init; }

    /// <summary>Residual blocks of the MLP, or the U-Net's per level; default 0: the denoiser's default, 3 for the MLP
    /// and 2 for the U-Net.</summary>
    public int Blocks { get; init; }

    /// <summary>The latent's shape the network was built for: [L] for a vector, [C, H, W] for a latent image. Set by the
    /// fit (<see cref="Resolved"/>); null before.</summary>
    public int[]? Shape { get; init; }

    /// <summary>These options for latents of <paramref name="shape"/>: <see cref="Denoiser"/>, <see cref="Width"/> and
    /// <see cref="Blocks"/>, <see cref="Steps"/> and <see cref="Batch"/> made concrete and the shape recorded. A U-Net needs a latent image ([C, H, W], H = W, even).</summary>
    public LatentDiffusionOptions Resolved(IReadOnlyList<int> shape)
    {
        var spatial = shape.Count == 3;
        var kind = Denoiser == LatentDenoiserKind.Auto ? (spatial ? LatentDenoiserKind.Unet : LatentDenoiserKind.Mlp) : Denoiser;
        if (kind == LatentDenoiserKind.Unet && !(spatial && shape[1] == shape[2] && shape[1] >= 2 && shape[1] % 2 == 0))
            throw HyphaException.Config($"--denoiser unet needs a latent image of even side (this model's latent is [{string.Join(", ", shape)}]); use --denoiser mlp");
        var d = DefaultsOf(kind);
        return this with
        {
            Denoiser = kind, Shape = [.. shape],
            Width = Width != 0 ? Width : d.Width,
            Blocks = Blocks != 0 ? Blocks : d.Blocks,
            Steps = Steps != 0 ? Steps : d.Steps,
            Batch = Batch != 0 ? Batch : d.Batch,
        };
    }

    /// <summary>What 0 means for <see cref="Width"/>, <see cref="Blocks"/>, <see cref="Steps"/> and <see cref="Batch"/>
    /// with each denoiser (the one place these numbers live; fit-prior's help is made from it). MLP: 256, 3, 4,000, 256.
    /// U-Net: 32, 2, 4,000, 128: 4,000 steps rather than 2,000 because on amf_ink_roots they doubled precision (0.055 to
    /// 0.119) and took FD from 189 to 167 for twice the time, about 80 minutes of one CPU core (docs/evaluation-amf.md).</summary>
    public static (int Width, int Blocks, int Steps, int Batch) DefaultsOf(LatentDenoiserKind kind) => kind switch
    {
        LatentDenoiserKind.Unet => (32, 2, 4000, 128),
        LatentDenoiserKind.Mlp => (256, 3, 4000, 256),
        _ => throw new ArgumentException("a concrete denoiser (mlp or unet)", nameof(kind)),
    };

    /// <summary>Optimizer steps; default 0: the denoiser's default (<see cref="DefaultsOf"/>), 4,000 for both (the
    /// U-Net's: about 80 minutes of one CPU core for the 4 x 16 x 16 latents of autoencoder-kl-cpu, docs/evaluation-amf.md).</summary>
    public int Steps { get; init; }

    /// <summary>Latent vectors per step, drawn with replacement; default 0: the denoiser's default, 256 for the MLP and
    /// 128 for the U-Net.</summary>
    public int Batch { get; init; }

    /// <summary>Adam learning rate at the start of its cosine decay to 0; default 1e-3.</summary>
    public double Lr { get; init; } = 1e-3;

    /// <summary>Decay of the exponential moving average of the weights that samples (<see cref="Ema"/>); default 0.999.</summary>
    public double EmaDecay { get; init; } = 0.999;

    /// <summary>Diffusion steps T of the noise schedule; default 1,000.</summary>
    public int Timesteps { get; init; } = 1000;

    /// <summary>Noise schedule; default cosine (the diffusion family's).</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;

    /// <summary>What the network predicts; default v (the diffusion family's).</summary>
    public PredictionKind Prediction { get; init; } = PredictionKind.V;

    /// <summary>DDIM steps when sampling (<c>--steps</c> of sample, evaluate and report overrides it); default 50.</summary>
    public int SampleSteps { get; init; } = 50;

    /// <summary>DDIM eta when sampling (<c>--eta</c> overrides it); default 0, deterministic.</summary>
    public double Eta { get; init; }

    /// <summary>Seed of the initialization and of every draw of training (batches, timesteps, noise); default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Value equality, the shape compared by its elements (a record compares arrays by reference).</summary>
    public bool Equals(LatentDiffusionOptions? other) =>
        other is not null && Denoiser == other.Denoiser && Width == other.Width && Blocks == other.Blocks &&
        (Shape ?? []).SequenceEqual(other.Shape ?? []) && (Shape is null) == (other.Shape is null) && Steps == other.Steps &&
        Batch == other.Batch && Lr.Equals(other.Lr) && EmaDecay.Equals(other.EmaDecay) && Timesteps == other.Timesteps &&
        Schedule == other.Schedule && Prediction == other.Prediction && SampleSteps == other.SampleSteps && Eta.Equals(other.Eta) && Seed == other.Seed;

    public override int GetHashCode() => HashCode.Combine(Denoiser, Width, Blocks, Shape?.Length, Steps, Batch, Lr, Seed);

    /// <summary>Checks the numbers; a configuration error naming the option.</summary>
    public LatentDiffusionOptions Validated()
    {
        if (Width != 0 && (Width < 2 || Width > 65_536 || Width % 2 != 0)) throw HyphaException.Config($"--width must be an even number in 2..65536 (got {Width})");
        if (Blocks != 0 && (Blocks < 1 || Blocks > 64)) throw HyphaException.Config($"--blocks must be in 1..64 (got {Blocks})");
        if (Steps < 0) throw HyphaException.Config($"--steps must be at least 1, or 0 for the denoiser's default (got {Steps})");
        if (Batch < 0) throw HyphaException.Config($"--batch must be at least 1, or 0 for the denoiser's default (got {Batch})");
        if (!(Lr > 0) || double.IsInfinity(Lr)) throw HyphaException.Config($"--lr must be positive (got {Lr})");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw HyphaException.Config($"--ema must be in [0, 1) (got {EmaDecay})");
        if (Timesteps < 2 || Timesteps > 100_000) throw HyphaException.Config($"--timesteps must be in 2..100000 (got {Timesteps})");
        if (SampleSteps < 1 || SampleSteps > Timesteps) throw HyphaException.Config($"--sample-steps must be in 1..{Timesteps} (got {SampleSteps})");
        if (!(Eta >= 0 && Eta <= 1)) throw HyphaException.Config($"--eta must be in [0, 1] (got {Eta})");
        return this;
    }
}

/// <summary>Where training of the latent-diffusion prior stands.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="Steps">Steps in all.</param>
/// <param name="Loss">Mean loss over the steps since the last report.</param>
/// <param name="StepsPerSecond">Speed so far.</param>
public sealed record LatentDiffusionProgress(int Step, int Steps, double Loss, double StepsPerSecond)
{
    /// <summary>Time left at the speed so far.</summary>
    public TimeSpan Eta => StepsPerSecond > 0 ? TimeSpan.FromSeconds((Steps - Step) / StepsPerSecond) : TimeSpan.Zero;
}

/// <summary>
/// A diffusion model on latent vectors (the "diffusion prior" of two-stage VAEs, LSGM and DALL-E 2, here fitted after
/// the VAE): the vectors are standardized per dimension (mean and standard deviation of the training vectors), a
/// <see cref="LatentDenoiser"/> learns to predict v (or eps) under the diffusion family's <see cref="NoiseSchedule"/>,
/// and samples come from <see cref="DdimSampler"/> without the images' clamp, through <see cref="ReverseProcess"/>,
/// every sample seeded by its own index (<see cref="SampleNoise"/>), then are mapped back to the latent scale. The
/// network that samples is the exponential moving average of the trained one.
/// </summary>
public sealed class LatentDiffusionPrior : ILatentSampler
{
    const int SampleBatch = 1024;

    readonly Module<Tensor, Tensor, Tensor> _net;
    readonly Tensor _mean, _scale;

    public LatentDiffusionOptions Options { get; }

    public NoiseSchedule Schedule { get; }

    /// <summary>DDIM steps used by <see cref="Sample"/>; default the options' <see cref="LatentDiffusionOptions.SampleSteps"/>.</summary>
    public int SampleSteps { get; init; }

    /// <summary>DDIM eta used by <see cref="Sample"/>; default the options' <see cref="LatentDiffusionOptions.Eta"/>.</summary>
    public double Eta { get; init; }

    /// <summary>What it was fitted to, for <see cref="Describe"/>: the number of latent vectors.</summary>
    public int Vectors { get; init; }

    /// <summary>A prior from its (sampling) network, standardization and options; takes ownership of <paramref name="net"/>.</summary>
    public LatentDiffusionPrior(Module<Tensor, Tensor, Tensor> net, Tensor mean, Tensor scale, LatentDiffusionOptions options)
    {
        Options = options.Validated();
        LatentSize = LatentDenoisers.LatentSize(net);
        _net = net;
        _net.eval();
        foreach (var p in _net.parameters()) p.requires_grad = false;
        _mean = mean.to(ScalarType.Float32, CPU).clone().DetachFromDisposeScope();
        _scale = scale.to(ScalarType.Float32, CPU).clone().DetachFromDisposeScope();
        if (_mean.shape.Length != 1 || _mean.shape[0] != LatentSize || !_scale.shape.SequenceEqual(_mean.shape))
            throw new ArgumentException($"standardization of size {_mean.shape[0]} for latents of size {LatentSize}");
        Schedule = new NoiseSchedule(options.Timesteps, options.Schedule, options.Prediction);
        SampleSteps = options.SampleSteps;
        Eta = options.Eta;
    }

    public string Name => LatentSamplers.LatentDiffusion;

    public int LatentSize { get; }

    /// <summary>The network that samples (the EMA weights): a <see cref="LatentDenoiser"/> or a <see cref="ConvLatentDenoiser"/>.</summary>
    public Module<Tensor, Tensor, Tensor> Network => _net;

    /// <summary>Per-dimension mean of the training vectors [L].</summary>
    public Tensor Mean => _mean;

    /// <summary>Per-dimension standard deviation of the training vectors [L] (at least 1e-6).</summary>
    public Tensor Scale => _scale;

    public string Describe() =>
        $"latent-diffusion: {LatentDenoisers.Describe(Options)}, {Options.Steps:N0} training steps" +
        (Vectors > 0 ? $" on {Vectors:N0} posterior means" : "") +
        $"; DDIM {SampleSteps} steps, eta {Eta.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    public Tensor Sample(long seed, int start, int count, Device? device = null)
    {
        if (count < 1) throw new ArgumentException("no samples asked for", nameof(count));
        var dev = device ?? CPU;
        var sampler = new DdimSampler(Schedule, SampleSteps, Eta, clip: null);
        _net.to(dev);
        using var noGrad = no_grad();
        var result = empty([count, LatentSize], ScalarType.Float32, CPU);
        for (var i = 0; i < count; i += SampleBatch)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(SampleBatch, count - i);
            var generators = SampleNoise.Generators(seed, (long)start + i, length);
            try
            {
                var x = ReverseProcess.Run(sampler, _net.forward, generators, [LatentSize], dev);
                result.narrow(0, i, length).copy_(x.cpu() * _scale + _mean);
            }
            finally
            {
                foreach (var g in generators) g.Dispose();
            }
        }
        return result;
    }

    /// <summary>
    /// Trains a prior on latent vectors [N, L] (N at least 2): Adam on the mean squared error of the network's output
    /// to the v (or eps) target at t ~ U[0, T), the learning rate decaying along a cosine to 0, the EMA updated after every
    /// step. Every draw comes from a generator seeded by <see cref="LatentDiffusionOptions.Seed"/>, and the weights are
    /// initialized from that seed with torch's global generator restored afterwards, so a fit on the CPU is repeatable.
    /// <paramref name="progress"/> is called about 100 times. Returns the prior and the mean loss of each hundredth of
    /// the steps.
    /// </summary>
    public static (LatentDiffusionPrior Prior, IReadOnlyList<double> Loss) Train(Tensor latents, LatentDiffusionOptions options,
        Device? device = null, Action<LatentDiffusionProgress>? progress = null, CancellationToken cancel = default)
    {
        options = options.Validated();
        var dev = device ?? CPU;
        if (latents.dim() != 2 || latents.shape[0] < 2) throw HyphaException.Config($"the latent-diffusion prior needs at least 2 latent vectors (got {latents.shape[0]})");
        var (n, l) = (latents.shape[0], (int)latents.shape[1]);
        options = options.Resolved(options.Shape ?? [l]);
        if (options.Shape!.Aggregate(1, (a, b) => a * b) != l)
            throw new ArgumentException($"latents of size {l} for the shape [{string.Join(", ", options.Shape!)}]", nameof(latents));
        var schedule = new NoiseSchedule(options.Timesteps, options.Schedule, options.Prediction);
        using var data = latents.to(ScalarType.Float32, CPU);
        if (!data.isfinite().all().item<bool>()) throw new HyphaException(ExitCode.BadCheckpoint, "the encoder gave NaN or infinite posterior means; the checkpoint cannot be fitted");
        using var mean = data.mean([0]);
        using var scale = data.std([0]).clamp_min(1e-6);
        using var x = ((data - mean) / scale).to(dev);

        Module<Tensor, Tensor, Tensor> online, ema;
        using (var saved = random.get_rng_state())
        {
            manual_seed(options.Seed);
            online = LatentDenoisers.Create(options);
            ema = LatentDenoisers.Create(options);
            random.set_rng_state(saved);
        }
        try
        {
            online.to(dev);
            ema.to(dev);
            Ema.Initialize(online, ema);
            online.train();
            using var optimizer = optim.Adam(online.parameters(), options.Lr);
            using var gen = Evaluation.Seeds.Generator(options.Seed, 0x1A7E);
            var window = Math.Max(1, options.Steps / 100);
            var curve = new List<double>();
            double sum = 0;
            var inWindow = 0;
            var clock = Stopwatch.StartNew();
            for (var step = 1; step <= options.Steps; step++)
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var idx = randint(0, n, [options.Batch], ScalarType.Int64, generator: gen).to(dev);
                var t = randint(0, schedule.T, [options.Batch], ScalarType.Int64, generator: gen).to(dev);
                var eps = randn([options.Batch, l], ScalarType.Float32, generator: gen).to(dev);
                var x0 = x.index_select(0, idx);
                var xt = schedule.AddNoise(x0, eps, t);
                var loss = (online.forward(xt, t) - schedule.Target(x0, eps, t)).square().mean();
                foreach (var group in optimizer.ParamGroups)
                    group.LearningRate = options.Lr * 0.5 * (1 + Math.Cos(Math.PI * (step - 1) / options.Steps));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                Ema.Update(online, ema, options.EmaDecay, step);
                var value = loss.item<float>();
                if (!float.IsFinite(value)) throw new HyphaException(ExitCode.Diverged, $"the latent-diffusion prior's loss became {value} at step {step}; lower --lr");
                sum += value;
                inWindow++;
                if (inWindow == window || step == options.Steps)
                {
                    curve.Add(sum / inWindow);
                    progress?.Invoke(new LatentDiffusionProgress(step, options.Steps, sum / inWindow, step / Math.Max(1e-9, clock.Elapsed.TotalSeconds)));
                    (sum, inWindow) = (0, 0);
                }
            }
            online.Dispose();
            ema.to(CPU);
            return (new LatentDiffusionPrior(ema, mean, scale, options) { Vectors = (int)n }, curve);
        }
        catch
        {
            online.Dispose();
            ema.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _net.Dispose();
        _mean.Dispose();
        _scale.Dispose();
    }
}
