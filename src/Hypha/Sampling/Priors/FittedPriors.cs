using System.Diagnostics;
using System.Globalization;
using Hypha.Data;
using Hypha.Evaluation;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Training;
using static TorchSharp.torch;

namespace Hypha.Sampling.Priors;

/// <summary>What <c>hypha fit-prior</c> fits.</summary>
public sealed record PriorFitRequest
{
    /// <summary>The prior: <c>gmm</c> or <c>latent-diffusion</c> (<see cref="LatentSamplers.Fitted"/>).</summary>
    public string Sampler { get; init; } = LatentSamplers.Gmm;

    /// <summary>Settings of the <c>gmm</c> prior; default <see cref="GmmOptions"/>'s.</summary>
    public GmmOptions Gmm { get; init; } = new();

    /// <summary>Settings of the <c>latent-diffusion</c> prior; default <see cref="LatentDiffusionOptions"/>'s.</summary>
    public LatentDiffusionOptions LatentDiffusion { get; init; } = new();

    /// <summary>Training chunks encoded, a seeded random subset (seed <see cref="Seed"/>); default 0: all of them.</summary>
    public int TrainLimit { get; init; }

    /// <summary>Seed of the subset (the priors' own seeds are in their options); default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Symmetries of each training chunk encoded (<see cref="Data.Augment.Flips"/>: 4 latents a chunk,
    /// <see cref="Data.Augment.Dihedral"/>: 8, every flip and 90-degree rotation of the chunk); default
    /// <see cref="Data.Augment.None"/>, the chunks as cut. Exact in image space: the chunk is transformed, then encoded.</summary>
    public Augment Augment { get; init; } = Augment.None;

    /// <summary>Chunks encoded at once; default 256.</summary>
    public int Batch { get; init; } = 256;

    /// <summary>Replace a prior of the same name fitted before; default false (refused).</summary>
    public bool Overwrite { get; init; }

    public PriorFitRequest Validated()
    {
        if (!LatentSamplers.Fitted.Contains(Sampler))
            throw HyphaException.Config($"--sampler must be {LatentSamplers.Listed(LatentSamplers.Fitted)} (got '{Sampler}'); prior, N(0, I), needs no fitting");
        if (TrainLimit < 0) throw HyphaException.Config($"--train-limit must be 0 (all) or positive (got {TrainLimit})");
        if (Batch < 1) throw HyphaException.Config($"--batch must be at least 1 (got {Batch})");
        if (Sampler == LatentSamplers.Gmm) Gmm.Validated();
        else LatentDiffusion.Validated();
        return this;
    }
}

/// <summary>Where a fit stands: <c>encode</c> (chunks encoded), <c>em</c> (EM iterations, with the mean log-likelihood)
/// or <c>train</c> (optimizer steps, with the loss).</summary>
public sealed record PriorFitProgress(string Phase, int Done, int Total, double? Value, double PerSecond)
{
    /// <summary>Time left at the speed so far, when the total is known.</summary>
    public TimeSpan? Eta => PerSecond > 0 && Total > 0 ? TimeSpan.FromSeconds(Math.Max(0, Total - Done) / PerSecond) : null;
}

/// <summary>A prior fitted and written.</summary>
/// <param name="Path">The file written.</param>
/// <param name="Description">One line: what was fitted (<see cref="ILatentSampler.Describe"/>).</param>
/// <param name="Fit">What it was fitted to and how long it took.</param>
/// <param name="Summary">The fit's outcome in one line (log-likelihoods for gmm, the loss for latent-diffusion).</param>
public sealed record PriorFitResult(string Path, string Description, PriorFit Fit, string Summary);

/// <summary>
/// The priors fitted after training, stored in the run folder (<c>RUN/priors/gmm.json</c>,
/// <c>RUN/priors/latent-diffusion.json</c>): <see cref="Fit"/> encodes the training chunks through the posterior mean
/// and fits one; <see cref="Resolve"/> turns <c>--sampler</c> into the prior a VAE draws its latents from.
/// </summary>
public static class FittedPriors
{
    /// <summary>Folder of the fitted priors inside the run folder.</summary>
    public const string DirName = "priors";

    /// <summary>RUN/priors/NAME.json.</summary>
    public static string PathOf(RunFolder run, string name) => Path.Combine(run.Root, DirName, name + ".json");

    /// <summary>The command that fits <paramref name="name"/> for <paramref name="run"/>.</summary>
    public static string FitCommand(RunFolder run, string name, bool overwrite = false) =>
        $"hypha fit-prior --run {run.Root} --sampler {name}{(overwrite ? " --overwrite" : "")}";

    /// <summary>
    /// <paramref name="settings"/> with the prior <c>--sampler</c> names loaded into <see cref="SamplerSettings.Latents"/>
    /// for a VAE (N(0, I) when <c>prior</c> is named; when none is, <see cref="DefaultSampler"/>'s; <c>--steps</c> and <c>--eta</c> go into the latent-diffusion
    /// prior's DDIM and are taken out); unchanged for other families, which refuse the VAE samplers by name. The caller
    /// disposes the returned Latents unless it passed them in. Errors: a prior not fitted yet (saying to run fit-prior;
    /// also when none is named and the model's samples need one, <see cref="NoneFitted"/>),
    /// fitted to another checkpoint, unreadable, or options it does not take.
    /// </summary>
    public static SamplerSettings Resolve(RunFolder run, IGenerativeModel model, SamplerSettings settings)
    {
        if (settings.Latents is not null) return settings;
        var name = settings.Sampler;
        if (model.As<IEncoderModel>() is not { } encoder)
        {
            if (name is not null && LatentSamplers.Names.Contains(name))
                throw HyphaException.Config($"--sampler {name} draws the latents of a VAE; the run's model ({model.Kind}) has none");
            return settings;
        }
        name ??= DefaultSampler(run, encoder) ?? throw NoneFitted(run, encoder.Kind);
        if (!LatentSamplers.Names.Contains(name))
            throw HyphaException.Config($"unknown sampler '{name}' for the run's model ({model.Kind}): {LatentSamplers.Listed(LatentSamplers.Names)}");
        if (name != LatentSamplers.LatentDiffusion && (settings.Steps is not null || settings.Eta is not null))
            throw HyphaException.Config($"{string.Join(" and ", settings.Given().Where(g => g != "--sampler"))} appl{(settings.Steps is not null && settings.Eta is not null ? "y" : "ies")} to --sampler {LatentSamplers.LatentDiffusion} only (the run's model is {model.Kind})");
        if (name == LatentSamplers.Prior) return settings with { Latents = new StandardNormalLatents(encoder.LatentSize) };
        var loaded = Load(run, name, encoder.LatentSize, settings.Steps, settings.Eta);
        return settings with { Latents = loaded, Steps = null, Eta = null };
    }

    /// <summary>The sampler a VAE's samples come from when <c>--sampler</c> is not given: <c>prior</c> (N(0, I)) for a model
    /// that <see cref="IEncoderModel.SamplesFromPrior"/>; for one that does not (the KL autoencoder), the fitted
    /// latent-diffusion prior, else the fitted gmm, else null (none fitted yet: <see cref="Resolve"/> then says how to fit one).</summary>
    public static string? DefaultSampler(RunFolder run, IEncoderModel encoder) => DefaultSamplerOf(run, encoder.SamplesFromPrior);

    static string? DefaultSamplerOf(RunFolder run, bool samplesFromPrior) =>
        samplesFromPrior ? LatentSamplers.Prior
            : new[] { LatentSamplers.LatentDiffusion, LatentSamplers.Gmm }.FirstOrDefault(name => File.Exists(PathOf(run, name)));

    /// <summary>The error of a model whose samples need a fitted prior when none is fitted: names both fit-prior commands.</summary>
    public static HyphaException NoneFitted(RunFolder run, string kind) =>
        new(ExitCode.InvalidConfig,
            $"the run's model ({kind}) draws its samples from a prior fitted to its latents, and none is fitted yet: " +
            $"{FitCommand(run, LatentSamplers.LatentDiffusion)} (the U-Net prior, about 80 minutes of one CPU core; the samples in docs/evaluation-amf.md) " +
            $"or {FitCommand(run, LatentSamplers.Gmm)} (seconds; blurrier samples); --sampler {LatentSamplers.Prior} decodes N(0, I) all the same",
            Path.Combine(run.Root, DirName));

    /// <summary>The cheap part of <see cref="Resolve"/>, for commands to call before reading any image: a fitted prior
    /// named by <c>--sampler</c> must have been fitted (its file exists), and, when <paramref name="needsSamples"/>
    /// (default true; false for a report, which says so in place of samples) and none is named, a run whose family does
    /// not sample from N(0, I) (<see cref="ModelDescriptor.SamplesFromPrior"/>, read from its config) must have one
    /// (<see cref="NoneFitted"/>).</summary>
    public static void Precheck(RunFolder run, SamplerSettings settings, bool needsSamples = true)
    {
        if (settings.Latents is not null) return;
        if (settings.Sampler is { } name)
        {
            if (LatentSamplers.Fitted.Contains(name) && !File.Exists(PathOf(run, name))) throw NotFitted(run, name);
            return;
        }
        if (!needsSamples) return;
        var descriptor = run.ReadConfig().Model.Descriptor;
        if (DefaultSamplerOf(run, descriptor.SamplesFromPrior) is null) throw NoneFitted(run, descriptor.Name);
    }

    static HyphaException NotFitted(RunFolder run, string name) =>
        new(ExitCode.InvalidConfig, $"the {name} prior is not fitted yet; fit it with {FitCommand(run, name)}", PathOf(run, name));

    /// <summary>
    /// The fitted prior <paramref name="name"/> of the run, for latents of <paramref name="latentSize"/>; DDIM
    /// <paramref name="steps"/> and <paramref name="eta"/> override a latent-diffusion prior's stored ones. Refuses a prior
    /// that is not fitted, fitted to another checkpoint than the run's last, of another latent size, or unreadable.
    /// </summary>
    public static ILatentSampler Load(RunFolder run, string name, int latentSize, int? steps = null, double? eta = null)
    {
        var path = PathOf(run, name);
        if (!File.Exists(path)) throw NotFitted(run, name);
        var refit = FitCommand(run, name, overwrite: true);
        if (name == LatentSamplers.Gmm)
        {
            var file = PriorFiles.Read<GmmFile>(path, name, refit);
            Check(run, path, file.Fit, file.LatentSize, latentSize, refit);
            return LoadGmm(file, path, refit);
        }
        if (name == LatentSamplers.LatentDiffusion)
        {
            var file = PriorFiles.Read<LatentDiffusionFile>(path, name, refit);
            Check(run, path, file.Fit, file.LatentSize, latentSize, refit);
            var options = Quiet(() => file.Options.Validated(), path, refit);
            if (steps is { } s && (s < 1 || s > options.Timesteps)) throw HyphaException.Config($"--steps must be in 1..{options.Timesteps} (got {s})");
            return LoadLatentDiffusion(file, options, path, refit, steps, eta);
        }
        throw new ArgumentException($"no fitted prior named {name}", nameof(name));
    }

    static void Check(RunFolder run, string path, PriorFit fit, int stored, int latentSize, string refit)
    {
        if (stored != latentSize)
            throw new HyphaException(ExitCode.BadCheckpoint, $"holds a prior of {stored}-dimensional latents, the run's model has {latentSize}; refit with {refit}", path);
        var header = Checkpoint.ReadHeader(run.LastCheckpoint);
        if (header.WrittenUtc != fit.CheckpointWrittenUtc)
            throw new HyphaException(ExitCode.BadCheckpoint,
                $"was fitted to the checkpoint of epoch {fit.Epoch} ({fit.ImagesSeen:N0} images seen, written {Stamp(fit.CheckpointWrittenUtc)} UTC), " +
                $"but the run's checkpoint is now of epoch {header.Epoch} ({header.ImagesSeen:N0} images seen, written {Stamp(header.WrittenUtc)} UTC); refit with {refit}", path);
    }

    static string Stamp(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    static T Quiet<T>(Func<T> read, string path, string refit)
    {
        try { return read(); }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or FormatException or HyphaException)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"cannot be used ({e.Message.TrimEnd('.')}); refit with {refit}", path, e);
        }
    }

    static GaussianMixturePrior LoadGmm(GmmFile file, string path, string refit) => Quiet(() =>
    {
        using var scope = NewDisposeScope();
        var l = file.LatentSize;
        var k = file.Weights.Length;
        var means = PriorFiles.FromRows(file.Means, l, "means");
        if (means.shape[0] != k) throw new InvalidDataException($"{k} weights but {means.shape[0]} means");
        Tensor cov = file.Options.Covariance == CovarianceKind.Full
            ? stack((file.Covariances ?? throw new InvalidDataException("no covariances")).Select(c => PriorFiles.FromRows(c, l, "covariances")).ToArray())
            : PriorFiles.FromRows(file.Variances ?? throw new InvalidDataException("no variances"), l, "variances");
        var mixture = new GaussianMixture(tensor(file.Weights, ScalarType.Float64), means, cov, file.Options.Covariance);
        return new GaussianMixturePrior(mixture) { Vectors = file.Fit.Vectors, LogLikelihood = file.Trace.LogLikelihood.Count > 0 ? file.Trace.LogLikelihood[^1] : null };
    }, path, refit);

    static LatentDiffusionPrior LoadLatentDiffusion(LatentDiffusionFile file, LatentDiffusionOptions options, string path, string refit, int? steps, double? eta) => Quiet(() =>
    {
        // A file written before the U-Net denoiser existed holds the MLP's options without a shape.
        var net = LatentDenoisers.Create(options.Resolved(options.Shape ?? [file.LatentSize]));
        try
        {
            using var scope = NewDisposeScope();
            var targets = net.state_dict();
            var stored = file.Weights.ToDictionary(w => w.Name);
            var missing = targets.Keys.Where(k => !stored.ContainsKey(k)).ToList();
            if (missing.Count > 0 || stored.Count != targets.Count)
                throw new InvalidDataException($"its weights do not match the network ({(missing.Count > 0 ? "missing " + missing[0] : $"{stored.Count} tensors, the network has {targets.Count}")})");
            var values = targets.ToDictionary(p => p.Key, p =>
            {
                var v = stored[p.Key].ToTensor();
                if (!v.shape.SequenceEqual(p.Value.shape)) throw new InvalidDataException($"{p.Key} is [{string.Join(", ", v.shape)}], the network's is [{string.Join(", ", p.Value.shape)}]");
                return v;
            });
            using (no_grad())
                foreach (var (key, target) in targets) target.copy_(values[key]);
            if (file.Mean.Length != file.LatentSize || file.Scale.Length != file.LatentSize)
                throw new InvalidDataException($"its standardization has {file.Mean.Length} means and {file.Scale.Length} scales for {file.LatentSize} dimensions");
            return new LatentDiffusionPrior(net, tensor(file.Mean), tensor(file.Scale), options)
            {
                SampleSteps = steps ?? options.SampleSteps, Eta = eta ?? options.Eta, Vectors = file.Fit.Vectors,
            };
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }, path, refit);

    /// <summary>Refuses to replace a fitted prior without <see cref="PriorFitRequest.Overwrite"/> (call before any work).</summary>
    public static void RefuseExisting(RunFolder run, string name, bool overwrite)
    {
        var path = PathOf(run, name);
        if (!overwrite && File.Exists(path))
            throw new HyphaException(ExitCode.OutputError, $"the {name} prior is fitted already; pass --overwrite to fit it again", path);
    }

    /// <summary>
    /// Fits <see cref="PriorFitRequest.Sampler"/> for the VAE of <paramref name="session"/> (a trained run, or the session
    /// that just trained it: its model must hold the weights of the run's last checkpoint) and writes it atomically to
    /// RUN/priors/NAME.json: the training chunks (or a seeded subset) are cut at the model's resolution and encoded through
    /// the posterior mean in eval mode, then the prior is fitted to those vectors on the session's device.
    /// </summary>
    public static PriorFitResult Fit(TrainingSession session, PriorFitRequest request, Action<PriorFitProgress>? progress = null,
        CancellationToken cancel = default)
    {
        request = request.Validated();
        var run = session.Run;
        RefuseExisting(run, request.Sampler, request.Overwrite);
        var encoder = session.Model.Require<IEncoderModel>("be fitted a prior over its latents (only the VAEs have latents)");
        RunEvaluation.RequireCheckpoint(run);
        var header = Checkpoint.ReadHeader(run.LastCheckpoint);
        var train = session.Data.Index.Train;
        if (train.Count == 0) throw new HyphaException(ExitCode.BadInput, "the run's training part is empty", run.Root);
        var refs = RunEvaluation.Subset(train, request.TrainLimit, request.Seed, 0xF17);

        var clock = Stopwatch.StartNew();
        var symmetries = Symmetries(request.Augment);
        using var latents = Encode(session, encoder, refs, symmetries, request.Batch, progress, cancel);
        var encodeSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var fit = new PriorFit
        {
            Checkpoint = Path.GetRelativePath(run.Root, run.LastCheckpoint).Replace('\\', '/'),
            CheckpointWrittenUtc = header.WrittenUtc, Epoch = header.Epoch, ImagesSeen = header.ImagesSeen,
            TrainingComplete = header.Complete, Vectors = (int)latents.shape[0], TrainChunks = train.Count, Seed = request.Seed,
            Augment = request.Augment.ToString().ToLowerInvariant(),
            EncodeSeconds = encodeSeconds, Device = session.Device.ToString(),
        };
        var path = PathOf(run, request.Sampler);
        if (request.Sampler == LatentSamplers.Gmm)
        {
            var o = request.Gmm;
            var (mixture, trace) = GaussianMixture.Fit(latents, o, (it, ll) =>
            {
                cancel.ThrowIfCancellationRequested();
                progress?.Invoke(new PriorFitProgress("em", it, o.MaxIterations, ll, it / Math.Max(1e-9, clock.Elapsed.TotalSeconds)));
            });
            using var prior = new GaussianMixturePrior(mixture) { Vectors = fit.Vectors, LogLikelihood = trace.LogLikelihood[^1] };
            fit = fit with { FitSeconds = clock.Elapsed.TotalSeconds, FittedUtc = DateTime.UtcNow };
            var standard = StandardNormalLogLikelihood(latents);
            PriorFiles.Write(path, new GmmFile
            {
                LatentSize = encoder.LatentSize, Options = o, Fit = fit, Trace = trace, StandardNormalLogLikelihood = standard,
                Weights = mixture.Weights.data<double>().ToArray(), Means = PriorFiles.Rows(mixture.Means),
                Covariances = o.Covariance == CovarianceKind.Full
                    ? Enumerable.Range(0, mixture.Components).Select(k => { using var c = mixture.Covariances[k]; return PriorFiles.Rows(c); }).ToArray()
                    : null,
                Variances = o.Covariance == CovarianceKind.Diag ? PriorFiles.Rows(mixture.Covariances) : null,
            });
            return new PriorFitResult(path, prior.Describe(), fit,
                $"mean log-likelihood of the {fit.Vectors:N0} posterior means: {trace.LogLikelihood[^1]:F2} nats under the mixture, {standard:F2} under N(0, I); " +
                $"EM {(trace.Converged ? "converged" : "stopped at --max-iter")} after {trace.Iterations} iterations");
        }
        else
        {
            var o = request.LatentDiffusion.Resolved(encoder.LatentShape);
            var (prior, loss) = LatentDiffusionPrior.Train(latents, o, session.Device,
                p => progress?.Invoke(new PriorFitProgress("train", p.Step, p.Steps, p.Loss, p.StepsPerSecond)), cancel);
            using (prior)
            {
                fit = fit with { FitSeconds = clock.Elapsed.TotalSeconds, FittedUtc = DateTime.UtcNow };
                PriorFiles.Write(path, new LatentDiffusionFile
                {
                    LatentSize = encoder.LatentSize, Options = o, Fit = fit, Loss = loss,
                    Mean = prior.Mean.data<float>().ToArray(), Scale = prior.Scale.data<float>().ToArray(),
                    Weights = prior.Network.state_dict().Select(p => StoredTensor.From(p.Key, p.Value)).ToList(),
                });
                return new PriorFitResult(path, prior.Describe(), fit,
                    $"denoising loss {loss[0]:G4} over the first hundredth of the steps, {loss[^1]:G4} over the last");
            }
        }
    }

    /// <summary>Mean log N(z; 0, I) of rows z [N, L], nats.</summary>
    static double StandardNormalLogLikelihood(Tensor z)
    {
        using var scope = NewDisposeScope();
        var d = z.to_type(ScalarType.Float64);
        return (-0.5 * (d.square().sum(1) + d.shape[1] * Math.Log(2 * Math.PI))).mean().item<double>();
    }

    /// <summary>The symmetry codes (<see cref="Augmentation.Transform"/>) each chunk is encoded under: [0] for none, 0..3
    /// for flips, 0..7 for dihedral.</summary>
    public static int[] Symmetries(Augment augment) => augment switch
    {
        Augment.None => [0],
        Augment.Flips => [0, 1, 2, 3],
        _ => [0, 1, 2, 3, 4, 5, 6, 7],
    };

    /// <summary>Posterior means [N x S, L] (CPU float32) of <paramref name="refs"/> under each of the S
    /// <paramref name="symmetries"/>, cut and encoded in batches on the session's device: row k N + i is chunk i under
    /// symmetry k.</summary>
    static Tensor Encode(TrainingSession session, IEncoderModel encoder, IReadOnlyList<ChunkRef> refs, IReadOnlyList<int> symmetries,
        int batch, Action<PriorFitProgress>? progress, CancellationToken cancel)
    {
        using var mode = encoder.EvalMode();
        using var noGrad = no_grad();
        var total = refs.Count * symmetries.Count;
        var result = empty([total, encoder.LatentSize], ScalarType.Float32, CPU);
        var clock = Stopwatch.StartNew();
        for (var s = 0; s < refs.Count; s += batch)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var n = Math.Min(batch, refs.Count - s);
            var x = ModelInput.Fit(encoder, session.Bank.Cut(refs, s, n));
            for (var k = 0; k < symmetries.Count; k++)
            {
                var (mu, _) = encoder.Encode(Augmentation.Transform(x, symmetries[k]).contiguous());
                result.narrow(0, k * refs.Count + s, n).copy_(mu);
            }
            var done = (s + n) * symmetries.Count;
            progress?.Invoke(new PriorFitProgress("encode", done, total, null, done / Math.Max(1e-9, clock.Elapsed.TotalSeconds)));
        }
        return result;
    }
}
