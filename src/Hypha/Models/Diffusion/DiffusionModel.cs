using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Models.Diffusion;

/// <summary>
/// A denoising diffusion model (Ho et al. 2020) on chunks in [0, 1] mapped to [-1, 1]: a <see cref="UNet"/> trained
/// to predict v (or eps) under a cosine (or linear) <see cref="NoiseSchedule"/>, an EMA copy of it (child module
/// <c>ema</c>, frozen, so it is in the state dict and in checkpoints) that samples with DDIM (default) or DDPM, and
/// the denoising trajectory for the report. State dict keys: <c>net.*</c> (trained) and <c>ema.*</c>; see
/// docs/model-diffusion.md.
/// </summary>
public sealed class DiffusionModel : nn.Module, IGenerativeModel, IStepHook, ITrajectoryModel, IExportWeights, IWholeImageModel
{
    readonly UNet net;
    readonly UNet ema;

    public DiffusionOptions Options { get; }

    public NoiseSchedule Schedule { get; }

    public DiffusionModel(DiffusionOptions options, int channels, int resolution) : base(nameof(DiffusionModel))
    {
        options.Validate();
        Options = options;
        Channels = channels;
        Resolution = resolution;
        Schedule = new NoiseSchedule(options.Timesteps, options.Schedule, options.Prediction);
        net = new UNet(options.Net(channels, resolution));
        ema = new UNet(options.Net(channels, resolution));
        Ema.Initialize(net, ema);
        RegisterComponents();
    }

    public string Kind => DiffusionDescriptor.Key;
    public int Channels { get; }
    public int Resolution { get; }
    public nn.Module Module => this;

    /// <summary>The trained network.</summary>
    public UNet Online => net;

    /// <summary>The EMA network that samples.</summary>
    public UNet Average => ema;

    /// <summary>
    /// Objective: mean squared error of the network's output to the target (v or eps) at t ~ U[0, T) with
    /// x_t = sqrt(ab) (2x - 1) + sqrt(1 - ab) eps, in fp32. Reports <c>loss</c> and <c>x0_mse</c>, the mean squared error
    /// of the implied x0 estimate (clamped as the samplers do) on the 0-1 scale, averaged over the same random t.
    /// </summary>
    public LossTerms Loss(Tensor x, LossContext context)
    {
        var x0 = x.to_type(ScalarType.Float32) * 2 - 1;
        var b = x0.shape[0];
        Tensor t, eps;
        if (context.Noise is { } g)
        {
            t = randint(0, Schedule.T, [b], ScalarType.Int64, generator: g).to(x0.device);
            eps = randn(x0.shape, ScalarType.Float32, generator: g).to(x0.device);
        }
        else
        {
            t = randint(0, Schedule.T, [b], ScalarType.Int64, device: x0.device);
            eps = randn_like(x0);
        }
        var xt = Schedule.AddNoise(x0, eps, t);
        var output = net.forward(xt, t).to_type(ScalarType.Float32);
        var target = Schedule.Target(x0, eps, t);
        var loss = (output - target).square().mean();
        Tensor x0Mse;
        using (no_grad())
        {
            var (x0Pred, _) = Schedule.Split(output.detach(), xt, t);
            x0Mse = ((x0Pred.clamp(-1, 1) - x0) * 0.5).square().mean();
        }
        return new LossTerms(loss, new Dictionary<string, Tensor> { ["loss"] = loss, ["x0_mse"] = x0Mse });
    }

    /// <summary>Updates the EMA weights after optimizer step <paramref name="globalStep"/>.</summary>
    public void AfterStep(long globalStep) => Ema.Update(net, ema, Options.EmaDecay, globalStep);

    /// <summary>The sampler <paramref name="settings"/> ask for, over this model's schedule; a configuration error for
    /// an unknown sampler, steps out of range, or eta with DDPM.</summary>
    public IDiffusionSampler SamplerFor(SamplerSettings settings)
    {
        this.RefuseSettings(settings, "--sampler", "--steps", "--eta");
        var name = DiffusionOptions.CheckSampler(settings.Sampler ?? Options.Sampler);
        var steps = settings.Steps ?? Options.SampleSteps;
        if (steps < 1 || steps > Schedule.T) throw HyphaException.Config($"--steps must be in 1..{Schedule.T} (got {steps})");
        if (name == "ddpm")
        {
            if (settings.Eta is not null) throw HyphaException.Config("--eta applies to the ddim sampler only");
            return new DdpmSampler(Schedule, steps);
        }
        return new DdimSampler(Schedule, steps, settings.Eta ?? Options.Eta);
    }

    /// <summary>The resolved sampler, e.g. <c>ddim steps 50 eta 0</c> or <c>ddpm steps 1000</c> (<see cref="SamplerFor"/>'s checks apply).</summary>
    public string DescribeSampler(SamplerSettings settings) => SamplerFor(settings) switch
    {
        DdimSampler d => FormattableString.Invariant($"ddim steps {d.Timesteps.Count} eta {d.Eta}"),
        var other => $"ddpm steps {other.Timesteps.Count}",
    };

    public Tensor Sample(SampleRequest request)
    {
        if (request.Count < 1) throw new ArgumentException("no samples asked for", nameof(request));
        if (request.Batch < 1) throw new ArgumentException("batch must be at least 1", nameof(request));
        var sampler = SamplerFor(request.Settings);
        using var mode = this.EvalMode();
        using var noGrad = no_grad();
        var result = empty([request.Count, Channels, Resolution, Resolution], ScalarType.Float32, CPU);
        for (var i = 0; i < request.Count; i += request.Batch)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(request.Batch, request.Count - i);
            var generators = SampleNoise.Generators(request.Seed, (long)request.Start + i, length);
            try
            {
                var x = Denoise(sampler, generators, request.Device,
                    request.StepProgress is { } stepProgress ? (k, _) => stepProgress(k + 1, sampler.Timesteps.Count) : null);
                result.narrow(0, i, length).copy_(ToImage(x));
            }
            finally
            {
                foreach (var g in generators) g.Dispose();
            }
            request.Progress?.Invoke(i + length);
        }
        return result;
    }

    public Tensor Trajectory(long seed, int frames, Device device, SamplerSettings settings)
    {
        if (frames < 1) throw new ArgumentException("at least one frame", nameof(frames));
        var sampler = SamplerFor(settings);
        var steps = sampler.Timesteps.Count;
        var at = Enumerable.Range(0, frames)
            .Select(f => frames == 1 ? steps - 1 : (int)Math.Round(f * (steps - 1.0) / (frames - 1))).ToArray();
        using var mode = this.EvalMode();
        using var noGrad = no_grad();
        var result = empty([frames, Channels, Resolution, Resolution], ScalarType.Float32, CPU);
        using var scope = NewDisposeScope();
        var generators = SampleNoise.Generators(seed, 0, 1);
        try
        {
            Denoise(sampler, generators, device, (k, x0) =>
            {
                for (var f = 0; f < frames; f++)
                    if (at[f] == k) result.narrow(0, f, 1).copy_(ToImage(x0));
            });
        }
        finally
        {
            generators[0].Dispose();
        }
        return result;
    }

    public string WholeImageMethod => MultiDiffusion.Method;

    /// <summary>Feathered: MultiDiffusion's panoramas weigh windows uniformly, but a U-Net's estimate is least sure at a
    /// window's edges (its padding sees nothing beyond them), and uniform weights carry that into a grid of faint lines
    /// at every window edge (docs/whole-images.md measures it); the tent gives the edges little weight.</summary>
    public Sampling.WindowWeighting Weighting => Sampling.WindowWeighting.Feather;

    /// <summary>
    /// Device memory: <see cref="MultiDiffusion.ImageBuffers"/> float32 copies of the image and its coverage, plus per
    /// window in the batch the U-Net's activations (<see cref="UNetSpec.InferenceElements"/>, with a quarter more for
    /// what the estimate leaves out) and the window's input, output and estimate, all as float32. Host: the finished
    /// image. Work: windows x denoising steps.
    /// </summary>
    public Sampling.WholeImageCost Cost(Sampling.WindowPlan plan, int batch, int count, SamplerSettings settings)
    {
        var steps = SamplerFor(settings).Timesteps.Count;
        long window = (ema.Spec.InferenceElements() * 5 / 4 + 6L * Channels * Resolution * Resolution) * sizeof(float);
        long image = ((long)MultiDiffusion.ImageBuffers * Channels + 1) * plan.Pixels * sizeof(float);
        return new Sampling.WholeImageCost(image + Math.Min(batch, plan.Count) * window, Channels * plan.Pixels * sizeof(float),
            (long)plan.Count * steps, steps);
    }

    public Tensor Synthesize(Sampling.WholeImageRequest request)
    {
        var sampler = SamplerFor(request.Settings);
        using var mode = this.EvalMode();
        return MultiDiffusion.Sample(ema, sampler, Channels, request, request.Weighting ?? Weighting);
    }

    /// <summary>Runs <paramref name="sampler"/> with the EMA network from x_T drawn per sample; returns x_0 in [-1, 1]
    /// on <paramref name="device"/>. <paramref name="onStep"/> sees each step's clamped x0 estimate.</summary>
    Tensor Denoise(IDiffusionSampler sampler, Generator[] generators, Device device, Action<int, Tensor>? onStep) =>
        ReverseProcess.Run(sampler, ema.forward, generators, [Channels, Resolution, Resolution], device, onStep);

    /// <summary>The EMA network: what samples, so what a user of the exported file gets.</summary>
    public string ExportedWeights => "the EMA weights of the U-Net (the ones that sample)";

    /// <summary>The EMA U-Net's state dict under the U-Net's own names (<c>conv_in.weight</c>..., as
    /// bench/pytorch/diffusion_ref.py's UNet).</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> ExportTensors() =>
        ema.state_dict().Select(kv => (kv.Key, kv.Value)).ToList();

    /// <summary>Each U-Net name fills the EMA network and the online one: an imported model samples with the weights
    /// it was given, and training from it would start from them.</summary>
    public IReadOnlyList<(string Name, Tensor Target)> ImportTargets() =>
        ema.state_dict().Select(kv => (kv.Key, kv.Value)).Concat(net.state_dict().Select(kv => (kv.Key, kv.Value))).ToList();

    static Tensor ToImage(Tensor x) => ((x + 1) * 0.5).clamp(0, 1);
}
