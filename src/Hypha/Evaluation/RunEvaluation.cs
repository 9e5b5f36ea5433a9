using System.Globalization;
using Hypha.Data;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// <c>hypha evaluate</c> on a trained run: builds <see cref="EvaluationInputs"/> from the run's own split and
/// model, runs the metrics, appends one line to RUN/metrics.jsonl and writes the memorization check's closest
/// pairs under RUN/evaluation/STAMP/.
/// </summary>
/// <remarks>
/// Inputs: a seeded random subset of the training chunks (<see cref="RunEvaluationOptions.TrainLimit"/>), a
/// seeded random subset of the test chunks (<see cref="RunEvaluationOptions.TestLimit"/>), split into halves A
/// and B by <see cref="EvaluationInputs.FromTestSplit"/>; for models that reconstruct (<see cref="IEncoderModel"/>),
/// reconstructions of every test chunk used through the posterior mean; samples from
/// <see cref="IGenerativeModel.Sample"/> with the evaluation's seed, the same images <c>hypha sample --seed S
/// --count N</c> writes with the same sampler settings (a VAE's fitted prior loaded by
/// <see cref="Sampling.Priors.FittedPriors.Resolve"/>, its name recorded under <see cref="LatentSamplerKey"/>). Chunks are brought to the model's resolution
/// (<see cref="ModelInput.Fit"/>) and evaluated on the CPU as float32 in [0, 1].
/// </remarks>
public static class RunEvaluation
{
    /// <summary>File in the run folder that gets one line per evaluation.</summary>
    public const string MetricsFileName = "metrics.jsonl";

    /// <summary>Folder in the run folder holding one sub-folder of images per evaluation.</summary>
    public const string ArtifactsDirName = "evaluation";

    /// <summary>Context key naming where a VAE's sample latents came from: <c>prior</c>, <c>gmm</c> or
    /// <c>latent-diffusion</c> (<see cref="LatentSamplers"/>); absent for other families and in lines written before
    /// fitted priors existed (which sampled N(0, I)).</summary>
    public const string LatentSamplerKey = "latent_sampler";

    /// <summary>Context key of the evaluation's image folder, relative to the run folder.</summary>
    public const string ArtifactsKey = "evaluation_dir";

    /// <summary>RUN/metrics.jsonl.</summary>
    public static string MetricsPath(RunFolder run) => Path.Combine(run.Root, MetricsFileName);

    /// <summary>
    /// The metric names to compute: every registered one when <paramref name="names"/> is null or empty, else
    /// the given ones (trimmed, duplicates dropped). An unknown name is an invalid-configuration error that lists the known ones.
    /// </summary>
    public static IReadOnlyList<string> ResolveMetrics(MetricRegistry registry, IReadOnlyList<string>? names)
    {
        if (names is null || names.Count == 0) return registry.Names;
        var picked = names.Select(n => n.Trim()).Where(n => n.Length > 0).Distinct().ToList();
        var unknown = picked.Where(n => !registry.Contains(n)).ToList();
        if (unknown.Count > 0)
            throw HyphaException.Config($"unknown metric{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}; known: {string.Join(", ", registry.Names)}");
        if (picked.Count == 0) throw HyphaException.Config($"no metric named; known: {string.Join(", ", registry.Names)}");
        return picked;
    }

    /// <summary>Throws a bad-checkpoint error when <paramref name="run"/> has no checkpoint yet.</summary>
    public static void RequireCheckpoint(RunFolder run)
    {
        if (!File.Exists(run.LastCheckpoint))
            throw new HyphaException(ExitCode.BadCheckpoint,
                "has no checkpoint yet (checkpoints/last.ckpt is written at the end of each epoch); train it first with hypha train", run.Root);
    }

    /// <summary>
    /// Evaluates the model of <paramref name="session"/> (opened with <see cref="TrainingSession.OpenTrained"/>).
    /// Registers <see cref="IwaeMetric"/> with <see cref="RunEvaluationOptions.IwaeK"/> in <paramref name="registry"/>,
    /// then computes the metrics, appends the record to RUN/metrics.jsonl and writes the closest pairs.
    /// </summary>
    /// <param name="sampleProgress">(images done, images asked for), first with 0 before sampling starts.</param>
    /// <param name="sampleStepProgress">(denoising steps done, steps per batch) of the batch in hand; see
    /// <see cref="SampleRequest.StepProgress"/>.</param>
    public static RunEvaluationResult Run(TrainingSession session, RunEvaluationOptions options, MetricRegistry registry,
        Action<string>? log = null, Action<MetricResult>? progress = null, Action<int, int>? sampleProgress = null,
        Action<int, int>? sampleStepProgress = null)
    {
        options.Validated();
        var k = options.IwaeK;
        registry.Register(IwaeMetric.Key, () => new IwaeMetric { K = k });
        var names = ResolveMetrics(registry, options.Metrics);
        var run = session.Run;
        var model = session.Model;
        var index = session.Data.Index;
        if (index.Test.Count < 4) throw new HyphaException(ExitCode.BadInput, $"the run's test part holds {index.Test.Count} chunks; evaluation needs at least 4", run.Root);
        if (index.Train.Count == 0) throw new HyphaException(ExitCode.BadInput, "the run's training part is empty", run.Root);
        var header = Checkpoint.ReadHeader(run.LastCheckpoint);
        // The sampler first: a prior not fitted (or fitted to another checkpoint) is refused before any work.
        var sampler = Sampling.Priors.FittedPriors.Resolve(run, model, options.Sampler);
        using var ownedLatents = ReferenceEquals(sampler.Latents, options.Sampler.Latents) ? null : sampler.Latents;

        using var scope = NewDisposeScope();
        var trainRefs = Subset(index.Train, options.TrainLimit, options.Seed, 0x7A1);
        var testRefs = Subset(index.Test, options.TestLimit, options.Seed, 0x7E5);
        log?.Invoke($"cutting {trainRefs.Count:N0} of {index.Train.Count:N0} training and {testRefs.Count:N0} of {index.Test.Count:N0} test chunks");
        var train = Cut(session, trainRefs, options.Batch);
        var test = Cut(session, testRefs, options.Batch);

        var encoder = model.As<IEncoderModel>();
        Tensor? recon = null;
        if (encoder is not null)
        {
            log?.Invoke($"reconstructing {testRefs.Count:N0} test chunks through the posterior mean");
            recon = Reconstruct(encoder, test, session.Device, options.Batch);
        }
        else log?.Invoke($"the {model.Kind} model does not reconstruct: psnr and ssim are skipped");

        var sampleCount = options.Samples > 0 ? options.Samples : testRefs.Count / 2;
        log?.Invoke($"sampling {sampleCount:N0} images (seed {options.Seed}{(sampler.Latents is { } l ? $", latents from {l.Name}" : "")})");
        sampleProgress?.Invoke(0, sampleCount);
        var samples = model.Sample(new SampleRequest(sampleCount, options.Seed)
        {
            Batch = options.Batch, Device = session.Device, Settings = sampler,
            Progress = sampleProgress is null ? null : k => sampleProgress(k, sampleCount), StepProgress = sampleStepProgress,
        });

        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var artifactsRel = Path.Combine(ArtifactsDirName, stamp);
        var context = new Dictionary<string, string>
        {
            ["run"] = Path.GetFileName(run.Root),
            ["checkpoint"] = Path.GetRelativePath(run.Root, run.LastCheckpoint),
            ["checkpoint_written_utc"] = header.WrittenUtc.ToString("O", CultureInfo.InvariantCulture),
            ["epoch"] = header.Epoch.ToString(CultureInfo.InvariantCulture),
            ["step_in_epoch"] = header.StepInEpoch.ToString(CultureInfo.InvariantCulture),
            ["images_seen"] = header.ImagesSeen.ToString(CultureInfo.InvariantCulture),
            ["global_step"] = header.GlobalStep.ToString(CultureInfo.InvariantCulture),
            ["training_complete"] = header.Complete ? "true" : "false",
            ["model"] = $"{session.Config.Model.Kind} ({session.Config.Model.Descriptor.Architecture(session.Config.Model)})",
            ["sampler"] = sampler.Describe(),
            ["resolution"] = model.Resolution.ToString(CultureInfo.InvariantCulture),
            ["device"] = session.Device.ToString(),
            ["train_chunks"] = index.Train.Count.ToString(CultureInfo.InvariantCulture),
            ["train_used"] = trainRefs.Count.ToString(CultureInfo.InvariantCulture),
            ["test_chunks"] = index.Test.Count.ToString(CultureInfo.InvariantCulture),
            ["test_used"] = testRefs.Count.ToString(CultureInfo.InvariantCulture),
            ["samples"] = sampleCount.ToString(CultureInfo.InvariantCulture),
        };

        if (sampler.Latents is { } latents)
        {
            context[LatentSamplerKey] = latents.Name;
            if (LatentSamplers.Fitted.Contains(latents.Name))
                context["latent_prior_file"] = Path.GetRelativePath(run.Root, Sampling.Priors.FittedPriors.PathOf(run, latents.Name)).Replace('\\', '/');
        }

        using var inputs = EvaluationInputs.FromTestSplit(train, test, options.Seed,
            samples: samples, originals: recon is null ? null : test, reconstructions: recon, model: model);
        var record = Evaluator.Run(registry, inputs, names, context, progress);
        if (encoder is null)
            record = record with
            {
                Skipped = record.Skipped.ToDictionary(p => p.Key,
                    p => p.Value == "no reconstructions" ? $"the {model.Kind} model does not reconstruct" : p.Value),
            };

        string? artifacts = null;
        var memo = record.Metrics.FirstOrDefault(m => m.ClosestPairs is { Count: > 0 });
        if (memo is not null)
        {
            artifacts = Path.Combine(run.Root, artifactsRel);
            ClosestPairImages.Write(artifacts, memo.ClosestPairs!, samples, train);
            record = record with { Context = new Dictionary<string, string>(context) { [ArtifactsKey] = artifactsRel.Replace('\\', '/') } };
        }
        var path = MetricsPath(run);
        try
        {
            MetricsJsonl.Append(path, record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HyphaException(ExitCode.OutputError, $"cannot append the evaluation: {e.Message}", path, e);
        }
        return new RunEvaluationResult(record, path, artifacts);
    }

    /// <summary>At most <paramref name="limit"/> (0: all) of <paramref name="chunks"/>, a seeded random subset kept in index order.</summary>
    public static List<ChunkRef> Subset(IReadOnlyList<ChunkRef> chunks, int limit, long seed, long salt)
    {
        if (limit <= 0 || limit >= chunks.Count) return chunks.ToList();
        using var gen = Seeds.Generator(seed, salt);
        using var perm = randperm(chunks.Count, dtype: int64, generator: gen);
        var picked = perm.data<long>().ToArray().Take(limit).Select(i => (int)i).Order().ToList();
        return picked.Select(i => chunks[i]).ToList();
    }

    /// <summary>Cuts chunks in batches at the model's resolution; returns CPU float32 [N, C, R, R].</summary>
    public static Tensor Cut(TrainingSession session, IReadOnlyList<ChunkRef> chunks, int batch)
    {
        var parts = new List<Tensor>();
        for (var s = 0; s < chunks.Count; s += batch)
        {
            using var inner = NewDisposeScope();
            var x = ModelInput.Fit(session.Model, session.Bank.Cut(chunks, s, Math.Min(batch, chunks.Count - s)));
            parts.Add(x.to_type(ScalarType.Float32).cpu().contiguous().MoveToOuterDisposeScope());
        }
        return cat(parts, 0);
    }

    /// <summary>Reconstructions decode(mu(x)) of CPU images <paramref name="x"/>, computed on <paramref name="device"/>; CPU float32.</summary>
    public static Tensor Reconstruct(IEncoderModel model, Tensor x, Device device, int batch)
    {
        var parts = new List<Tensor>();
        for (long s = 0; s < x.shape[0]; s += batch)
        {
            using var inner = NewDisposeScope();
            var xb = x.narrow(0, s, Math.Min(batch, x.shape[0] - s)).to(device);
            parts.Add(VaeMath.Reconstruct(model, xb).to_type(ScalarType.Float32).cpu().MoveToOuterDisposeScope());
        }
        return cat(parts, 0);
    }
}
