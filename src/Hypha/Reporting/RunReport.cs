using System.Globalization;
using Hypha.Data;
using Hypha.Evaluation;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Training;
using Hypha.Training.Observers;
using static TorchSharp.torch;

namespace Hypha.Reporting;

/// <summary>
/// <c>hypha report</c>: gathers a run folder's configuration, dataset summary, curves (redrawn from metrics.csv
/// when missing), fresh reconstruction, sample and interpolation grids from the last checkpoint, the latest
/// evaluation in metrics.jsonl and its closest pairs, and writes them as one self-contained HTML page.
/// </summary>
public static class RunReport
{
    /// <summary>Default page name inside the run folder.</summary>
    public const string DefaultFileName = "report.html";

    /// <summary>Test chunks shown beside their reconstructions (default 20).</summary>
    public const int ReconstructionCount = 20;
    /// <summary>Samples shown (default 40).</summary>
    public const int SampleCount = 40;
    /// <summary>Pairs of test chunks interpolated between (default 3), each with 8 decoded points.</summary>
    public const int InterpolationPairs = 3;

    /// <summary>
    /// Reads what the page shows. The run must have a checkpoint. <paramref name="seed"/> picks the sample latents
    /// (default 0); <paramref name="device"/> defaults to the run's; <paramref name="sampler"/> makes the samples and the
    /// trajectory (default the model's own; a VAE's fitted prior by name, <see cref="Sampling.Priors.FittedPriors.Resolve"/>),
    /// and for a VAE picks the latest evaluation made with the same latent sampler.
    /// </summary>
    public static ReportContent Collect(RunFolder run, string? device = null, long seed = 0, Action<string>? log = null, SamplerSettings? sampler = null)
    {
        RunEvaluation.RequireCheckpoint(run);
        sampler ??= new SamplerSettings();
        var configJson = File.ReadAllText(run.ConfigPath);
        var curves = Curves(run, run.ReadConfig().Model);

        using var session = TrainingSession.OpenTrained(run, device, log);
        // A model whose samples need a fitted prior, none fitted and none named: the page shows no samples and says how to fit one.
        var unfitted = sampler.Sampler is null && sampler.Latents is null && session.Model.As<IEncoderModel>() is { } needs &&
                       Sampling.Priors.FittedPriors.DefaultSampler(run, needs) is null
            ? Sampling.Priors.FittedPriors.NoneFitted(run, needs.Kind).Message : null;
        var settings = unfitted is null ? Sampling.Priors.FittedPriors.Resolve(run, session.Model, sampler) : sampler;
        using var ownedLatents = ReferenceEquals(settings.Latents, sampler.Latents) ? null : settings.Latents;
        var (record, note, pairs) = LatestEvaluation(run, log, settings.Latents?.Name);
        var folderEvaluations = SampleFolderEvaluations(run);
        var header = Checkpoint.ReadHeader(run.LastCheckpoint);
        if (record is not null && record.Context.TryGetValue("checkpoint_written_utc", out var written) &&
            written != header.WrittenUtc.ToString("O", CultureInfo.InvariantCulture))
            note = "The metrics below are of an earlier checkpoint than the pictures on this page: run hypha evaluate again for current numbers." +
                   (note is null ? "" : " " + note);

        using var scope = NewDisposeScope();
        var test = session.Data.Index.Test.Count > 0 ? session.Data.Index.Test : session.Data.Index.Validation;
        ReportFigure? recon = null, interp = null, trajectory = null;
        var model = session.Model;
        var side = model.Resolution;
        var lacks = new Dictionary<string, string>();
        var encoder = model.As<IEncoderModel>();
        if (encoder is null)
        {
            lacks["reconstructions"] = $"The {model.Kind} model does not encode chunks, so it has no reconstructions.";
            lacks["interpolations"] = $"The {model.Kind} model has no latent codes to interpolate between.";
        }
        if (encoder is not null && test.Count > 0)
        {
            var n = Math.Min(ReconstructionCount, test.Count);
            var picks = Spread(test, n);
            var x = RunEvaluation.Cut(session, picks, 64);
            var xhat = RunEvaluation.Reconstruct(encoder, x, session.Device, 64);
            var grid = ImageGrid.SideBySide(x, xhat, columns: 5);
            recon = new ReportFigure("Reconstructions",
                $"Left: {n} real test chunks ({side} x {side} px) the model never trained on. Right: the model's reconstruction of each, in the same place. " +
                "Sharp, faithful reconstructions mean the code keeps the detail; blur is typical of VAEs.",
                Png(grid), Scale(grid));

            if (test.Count >= 2)
            {
                var pairsN = Math.Min(InterpolationPairs, test.Count / 2);
                var ends = Spread(test, 2 * pairsN);
                var a = RunEvaluation.Cut(session, ends.Where((_, i) => i % 2 == 0).ToList(), 64);
                var b = RunEvaluation.Cut(session, ends.Where((_, i) => i % 2 == 1).ToList(), 64);
                var rows = LatentInterpolation.Rows(encoder, a, b, session.Device, steps: 8);
                var igrid = ImageGrid.Tile(rows, columns: 10);
                interp = new ReportFigure("Latent interpolations",
                    $"Each row starts and ends with a real test chunk (first and last image). The 8 images between are decoded from evenly spaced points on the straight line between the two chunks' codes. " +
                    "Smooth, plausible transitions mean the model has learned a continuous space of root images rather than isolated examples.",
                    Png(igrid), Scale(igrid));
            }
        }
        ReportFigure? sampleFig = null;
        if (unfitted is not null) lacks["samples"] = $"No samples: {unfitted}.";
        else sampleFig = SampleFigure(session, model, settings, test, seed);
        if (unfitted is null && model.As<ITrajectoryModel>() is { } stepwise)
        {
            var frames = stepwise.Trajectory(seed, 10, session.Device, settings);
            var tgrid = ImageGrid.Tile(frames, columns: (int)frames.shape[0]);
            trajectory = new ReportFigure("Denoising trajectory",
                $"One sample (seed {seed}) as it is made: left to right, the model's estimate of the final image at evenly spaced denoising steps, from pure noise to the sample itself.",
                Png(tgrid), Scale(tgrid));
        }

        var whole = WholeImagesSection.Collect(run.Root, session.Data.Images);

        return new ReportContent
        {
            RunName = Path.GetFileName(run.Root),
            RunPath = run.Root,
            Config = session.Config,
            ConfigJson = configJson,
            Dataset = DatasetSummary.Read(run.DatasetPath),
            CheckpointSummary = $"checkpoint: epoch {header.Epoch}{(header.Complete ? " (training complete)" : "")}, {header.ImagesSeen:N0} images seen, written {header.WrittenUtc.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC",
            Curves = curves,
            Reconstructions = recon,
            Samples = sampleFig,
            SampleHistory = SampleHistory(run),
            Trajectory = trajectory,
            WholeImages = whole,
            Lacks = lacks,
            ModelSummary = $"{session.Config.Model.Kind}: {session.Config.Model.Descriptor.Summary}",
            Interpolations = interp,
            Evaluation = record,
            EvaluationNote = note,
            ClosestPairs = pairs,
            SampleFolderEvaluations = folderEvaluations,
        };
    }

    /// <summary>The samples figure: 10 real test chunks (when there are any) above <see cref="SampleCount"/> samples of <paramref name="seed"/>.</summary>
    static ReportFigure SampleFigure(TrainingSession session, IGenerativeModel model, SamplerSettings settings, IReadOnlyList<ChunkRef> test, long seed)
    {
        var samples = model.Sample(new SampleRequest(SampleCount, seed) { Device = session.Device, Settings = settings });
        var realCount = Math.Min(10, test.Count);
        var sgrid = realCount > 0
            ? ImageGrid.Tile(cat([RunEvaluation.Cut(session, Spread(test, realCount), 64), samples], 0), columns: 10)
            : ImageGrid.Tile(samples, columns: 10);
        return new ReportFigure("Samples",
            (realCount > 0 ? $"First row: {realCount} real test chunks, for comparison. Below: " : "") +
            $"{SampleCount} synthetic chunks (seed {seed}), as hypha sample makes them" +
            (settings.Latents is { } latents ? $" (sampler {latents.Describe()})" : "") +
            ". Compare them by eye with the real chunks: texture, roots, fungal structures, contrast.",
            Png(sgrid), Scale(sgrid));
    }

    /// <summary>Collects and writes the page to <paramref name="outPath"/> (default RUN/report.html); returns the path written.</summary>
    public static string Write(RunFolder run, string? outPath = null, string? device = null, long seed = 0, Action<string>? log = null,
        SamplerSettings? sampler = null)
    {
        var content = Collect(run, device, seed, log, sampler);
        var path = Path.GetFullPath(outPath ?? Path.Combine(run.Root, DefaultFileName));
        try
        {
            var dir = Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            AtomicFile.WriteAllText(path, ReportPage.Render(content));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HyphaException(ExitCode.OutputError, $"cannot write the report: {e.Message}", path, e);
        }
        return path;
    }

    static List<ReportFigure> Curves(RunFolder run, ModelOptions model)
    {
        var terms = model.Descriptor.TermsFor(model).Where(t => t.Plot).ToList();
        if (terms.Any(t => !File.Exists(Path.Combine(run.PlotsDir, t.PlotFile))) && File.Exists(run.MetricsCsv))
        {
            Directory.CreateDirectory(run.PlotsDir);
            CurvesObserver.Draw(run, model);
        }
        return terms.Where(t => File.Exists(Path.Combine(run.PlotsDir, t.PlotFile)))
            .Select(t => new ReportFigure(t.Title, t.Description, File.ReadAllBytes(Path.Combine(run.PlotsDir, t.PlotFile)))).ToList();
    }

    /// <summary>Up to 6 of the per-epoch sample grids training kept (grids/history), evenly spaced, last included,
    /// side by side with the epoch under each.</summary>
    static ReportFigure? SampleHistory(RunFolder run)
    {
        var dir = Path.Combine(run.GridsDir, GridsObserver.HistoryDir);
        if (!Directory.Exists(dir)) return null;
        var files = Directory.GetFiles(dir, "samples_e*.png").Order(StringComparer.Ordinal).ToList();
        if (files.Count < 2) return null;
        var n = Math.Min(6, files.Count);
        var picked = Enumerable.Range(0, n).Select(i => files[(int)Math.Round((double)i * (files.Count - 1) / (n - 1))]).Distinct().ToList();
        using var scope = NewDisposeScope();
        var grids = picked.Select(f =>
        {
            var image = ImageReader.Read(f)[0];
            return tensor(image.Pixels).view(image.Channels, image.Height, image.Width).to_type(ScalarType.Float32) / 255f;
        }).ToList();
        if (grids.Select(g => string.Join("x", g.shape)).Distinct().Count() != 1) return null; // a progressive model's grids grow
        var strip = ImageGrid.Tile(stack(grids), columns: grids.Count);
        var epochs = string.Join(", ", picked.Select(f => int.Parse(Path.GetFileNameWithoutExtension(f)["samples_e".Length..], CultureInfo.InvariantCulture)));
        return new ReportFigure("Samples through training",
            $"The same 64 seeds sampled at the end of epochs {epochs} (left to right): how the samples formed during training.", Png(strip), Scale(strip));
    }

    /// <summary>The latest evaluation of the model (of one made with <paramref name="latentSampler"/> when given: lines
    /// without <see cref="RunEvaluation.LatentSamplerKey"/> sampled N(0, I)), a note when it was made with another
    /// sampler than the page's samples, and its closest pairs.</summary>
    static (EvaluationRecord?, string?, List<ReportPair>) LatestEvaluation(RunFolder run, Action<string>? log, string? latentSampler)
    {
        var path = RunEvaluation.MetricsPath(run);
        if (!File.Exists(path)) return (null, null, []);
        IReadOnlyList<EvaluationRecord> all;
        try
        {
            all = MetricsJsonl.ReadAll(path, log);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"cannot be read: {e.Message}", path, e);
        }
        // Lines of hypha evaluate --samples FOLDER are not the model's: SampleFolderEvaluations shows them.
        var record = SamplesFolderSection.Latest(all).Model;
        if (record is null) return (null, null, []);
        string? note = null;
        if (latentSampler is not null)
        {
            static string Made(EvaluationRecord r) => r.Context.GetValueOrDefault(RunEvaluation.LatentSamplerKey, LatentSamplers.Prior);
            var same = SamplesFolderSection.Latest(all.Where(r => Made(r) == latentSampler).ToList()).Model;
            if (same is not null) record = same;
            else note = $"The metrics below are of samples drawn with --sampler {Made(record)}, not {latentSampler} as the samples on this page: " +
                        $"run hypha evaluate --sampler {latentSampler} for its numbers.";
        }
        var pairs = new List<ReportPair>();
        var memo = record.Metrics.FirstOrDefault(m => m.ClosestPairs is { Count: > 0 });
        if (memo is not null && record.Context.TryGetValue(RunEvaluation.ArtifactsKey, out var rel))
        {
            var images = ClosestPairImages.Read(Path.Combine(run.Root, rel), memo.ClosestPairs!.Count);
            pairs.AddRange(images.Select((p, i) => new ReportPair(p.Sample, p.Train, memo.ClosestPairs![i].Distance)));
        }
        return (record, note, pairs);
    }

    static IReadOnlyList<EvaluationRecord> SampleFolderEvaluations(RunFolder run)
    {
        var path = RunEvaluation.MetricsPath(run);
        return File.Exists(path) ? SamplesFolderSection.Latest(MetricsJsonl.ReadAll(path)).Folders : [];
    }

    static List<ChunkRef> Spread(IReadOnlyList<ChunkRef> chunks, int n) =>
        Enumerable.Range(0, n).Select(i => chunks[(int)((long)i * chunks.Count / n)]).ToList();

    static byte[] Png(Tensor chw) => ImageEncoding.Encode(chw, ImageFormat.Png8);

    /// <summary>Small grids are shown enlarged (integer factor, pixelated) to about 700-1000 CSS pixels wide.</summary>
    static int? Scale(Tensor chw)
    {
        var w = (int)chw.shape[2];
        var factor = Math.Max(1, 1000 / Math.Max(1, w));
        return factor == 1 ? null : w * factor;
    }
}
