using System.Globalization;
using Hypha.Data;
using Hypha.Evaluation;
using Hypha.Imaging;
using Hypha.Runs;
using Hypha.Sampling;
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
    /// (default 0); <paramref name="device"/> defaults to the run's.
    /// </summary>
    public static ReportContent Collect(RunFolder run, string? device = null, int seed = 0, Action<string>? log = null)
    {
        RunEvaluation.RequireCheckpoint(run);
        var configJson = File.ReadAllText(run.ConfigPath);
        var curves = Curves(run);
        var (record, note, pairs) = LatestEvaluation(run);
        var folderEvaluations = SampleFolderEvaluations(run);

        using var session = TrainingSession.OpenTrained(run, device, log);
        var header = Checkpoint.ReadHeader(run.LastCheckpoint);
        if (record is not null && record.Context.TryGetValue("checkpoint_written_utc", out var written) &&
            written != header.WrittenUtc.ToString("O", CultureInfo.InvariantCulture))
            note = "The metrics below are of an earlier checkpoint than the pictures on this page: run hypha evaluate again for current numbers.";

        using var scope = NewDisposeScope();
        var test = session.Data.Index.Test.Count > 0 ? session.Data.Index.Test : session.Data.Index.Validation;
        ReportFigure? recon = null, interp = null;
        var model = session.Model;
        var side = model.Resolution;
        if (test.Count > 0)
        {
            var n = Math.Min(ReconstructionCount, test.Count);
            var picks = Spread(test, n);
            var x = RunEvaluation.Cut(session, picks, 64);
            var xhat = RunEvaluation.Reconstruct(model, x, session.Device, 64);
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
                var rows = LatentInterpolation.Rows(model, a, b, session.Device, steps: 8);
                var igrid = ImageGrid.Tile(rows, columns: 10);
                interp = new ReportFigure("Latent interpolations",
                    $"Each row starts and ends with a real test chunk (first and last image). The 8 images between are decoded from evenly spaced points on the straight line between the two chunks' codes. " +
                    "Smooth, plausible transitions mean the model has learned a continuous space of root images rather than isolated examples.",
                    Png(igrid), Scale(igrid));
            }
        }
        var z = Generation.PriorLatents(SampleCount, model.LatentSize, seed);
        var samples = Generation.Decode(model, z, session.Device);
        var sgrid = ImageGrid.Tile(samples, columns: 10);
        var sampleFig = new ReportFigure("Samples",
            $"{SampleCount} synthetic chunks decoded from random codes (seed {seed}), as hypha sample makes them. Compare them by eye with the real chunks above: texture, roots, fungal structures, contrast.",
            Png(sgrid), Scale(sgrid));

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
            Interpolations = interp,
            Evaluation = record,
            EvaluationNote = note,
            ClosestPairs = pairs,
            SampleFolderEvaluations = folderEvaluations,
        };
    }

    /// <summary>Collects and writes the page to <paramref name="outPath"/> (default RUN/report.html); returns the path written.</summary>
    public static string Write(RunFolder run, string? outPath = null, string? device = null, int seed = 0, Action<string>? log = null)
    {
        var content = Collect(run, device, seed, log);
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

    static List<ReportFigure> Curves(RunFolder run)
    {
        string[] names = ["loss.png", "kl.png", "mse.png"];
        if (names.Take(2).Any(n => !File.Exists(Path.Combine(run.PlotsDir, n))) && File.Exists(run.MetricsCsv))
        {
            Directory.CreateDirectory(run.PlotsDir);
            CurvesObserver.Draw(run);
        }
        var captions = new Dictionary<string, (string, string)>
        {
            ["loss.png"] = ("Loss", "Reconstruction error plus KL per image, training and validation chunks, against training images seen (log scale). Lower is better."),
            ["kl.png"] = ("KL divergence", "How much information the codes carry beyond the random prior, in nats per image. It usually rises early, then settles."),
            ["mse.png"] = ("Reconstruction error", "Mean squared error per pixel on the 0-1 intensity scale (log scale). Lower is better."),
        };
        return names.Where(n => File.Exists(Path.Combine(run.PlotsDir, n)))
            .Select(n => new ReportFigure(captions[n].Item1, captions[n].Item2, File.ReadAllBytes(Path.Combine(run.PlotsDir, n)))).ToList();
    }

    static (EvaluationRecord?, string?, List<ReportPair>) LatestEvaluation(RunFolder run)
    {
        var path = RunEvaluation.MetricsPath(run);
        if (!File.Exists(path)) return (null, null, []);
        IReadOnlyList<EvaluationRecord> all;
        try
        {
            all = MetricsJsonl.ReadAll(path);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new HyphaException(ExitCode.BadCheckpoint, $"cannot be read: {e.Message}", path, e);
        }
        // Lines of hypha evaluate --samples FOLDER are not the model's: SampleFolderEvaluations shows them.
        var record = SamplesFolderSection.Latest(all).Model;
        if (record is null) return (null, null, []);
        var pairs = new List<ReportPair>();
        var memo = record.Metrics.FirstOrDefault(m => m.ClosestPairs is { Count: > 0 });
        if (memo is not null && record.Context.TryGetValue(RunEvaluation.ArtifactsKey, out var rel))
        {
            var images = ClosestPairImages.Read(Path.Combine(run.Root, rel), memo.ClosestPairs!.Count);
            pairs.AddRange(images.Select((p, i) => new ReportPair(p.Sample, p.Train, memo.ClosestPairs![i].Distance)));
        }
        return (record, null, pairs);
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
