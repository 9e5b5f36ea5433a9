using System.CommandLine;
using System.Globalization;
using Hypha.Data;
using Hypha.Evaluation;
using Hypha.Runs;
using Hypha.Training;
using Spectre.Console;

namespace Hypha.Cli.Commands;

/// <summary><c>hypha evaluate</c>: the metrics of a trained run beside their real-vs-real floors, appended to RUN/metrics.jsonl.</summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "A trained run folder (with checkpoints/last.ckpt).", Required = true };
        var metrics = new Option<string>("--metrics") { Description = $"Comma-separated metric names: {string.Join(", ", MetricRegistry.Keys)}. Default: all the model can be scored on." };
        var samples = new Option<string>("--samples") { Description = "A number: samples drawn from the model (0: as many as half the test chunks used, which the metrics want; default 0). " +
            "A folder: score its images (PNG/JPEG/TIFF, any generator) instead of the model's, with every metric that needs no model (a folder named with digits only: write ./NAME).", DefaultValueFactory = _ => "0" };
        var resize = EnumOption.Create<SampleResize>("--resize", "With --samples FOLDER: none: refuse images of another size than the run's chunks; area: resize them (OpenCV INTER_AREA). Default: none.");
        var normalizeLikeRun = new Option<bool>("--normalize-like-run") { Description = "With --samples FOLDER: normalize each image as the run normalized its images (default: take 8-bit / 255, 16-bit / 65535, float as is)." };
        var onBadImage = EnumOption.Create<BadImagePolicy>("--on-bad-image", "With --samples FOLDER: skip: leave unreadable files out and list them; fail: stop. Default: skip.");
        var iwaeK = new Option<int>("--iwae-k") { Description = "Importance samples per test image for the likelihood bound. Default: 64.", DefaultValueFactory = _ => 64 };
        var seed = new Option<long>("--seed") { Description = "Seed of subsets, test halves, latent draws and metric internals. Default: 0.", DefaultValueFactory = _ => 0 };
        var trainLimit = new Option<int>("--train-limit") { Description = "Training chunks (seeded random subset) searched for each sample's nearest neighbour (0: all). Default: 2000.", DefaultValueFactory = _ => 2000 };
        var testLimit = new Option<int>("--test-limit") { Description = "Test chunks used (seeded random subset; 0: all). Default: 1000.", DefaultValueFactory = _ => 1000 };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N. Default: the run's." };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for libtorch (0: all cores). Default: the run's." };
        var cmd = new Command("evaluate",
            "Measure a trained run: reconstruction (psnr, ssim), likelihood (iwae_bits_per_dim), sample quality and diversity " +
            "(swd, ms_ssim, ResNet-18 fd/kid/precision/recall/density/coverage) and memorization, each beside its real-vs-real " +
            "floor; appends one JSON line to RUN/metrics.jsonl and writes the closest sample/training pairs to RUN/evaluation/. " +
            "The defaults take a few minutes on a CPU for the cpu preset.")
            { run, metrics, samples, iwaeK, seed, trainLimit, testLimit, device, threads, resize, normalizeLikeRun, onBadImage };
        var sampler = new SamplerOptions();
        sampler.AddTo(cmd);
        cmd.SetAction(p => CliApp.Guard(_ =>
        {
            var folder = RunFolder.Open(p.GetValue(run)!);
            var samplesText = p.GetValue(samples) ?? "0";
            var samplesCount = 0;
            var fromFolder = !int.TryParse(samplesText, System.Globalization.NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out samplesCount);
            if (!fromFolder && (p.GetValue(resize) is not null || p.GetValue(normalizeLikeRun) || p.GetValue(onBadImage) is not null))
                throw HyphaException.Config("--resize, --normalize-like-run and --on-bad-image apply to --samples FOLDER only");
            var options = new RunEvaluationOptions
            {
                Metrics = p.GetValue(metrics)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Samples = fromFolder ? 0 : samplesCount, IwaeK = p.GetValue(iwaeK), Seed = p.GetValue(seed),
                TrainLimit = p.GetValue(trainLimit), TestLimit = p.GetValue(testLimit), Sampler = sampler.Resolve(p),
            }.Validated();
            if (fromFolder)
            {
                if (p.GetValue(threads) is { } ft && ft > 0) TorchSharp.torch.set_num_threads(ft);
                using var folderRegistry = MetricRegistry.CreateDefault();
                RunEvaluation.ResolveMetrics(folderRegistry, options.Metrics);
                var config = folder.ReadConfig();
                var read = new SampleFolderOptions
                {
                    Size = config.Data.Chunk, Channels = config.Data.Channels, Resize = p.GetValue(resize) ?? SampleResize.None,
                    NormalizeLike = p.GetValue(normalizeLikeRun) ? config.Data.Normalize : null,
                    PercentileLow = config.Data.PercentileLow, PercentileHigh = config.Data.PercentileHigh,
                    OnBadImage = p.GetValue(onBadImage) ?? BadImagePolicy.Skip,
                };
                var external = SampleFolderEvaluation.Run(folder, samplesText, read, options, folderRegistry,
                    log: m => AnsiConsole.MarkupLine(Markup.Escape(m)),
                    progress: r => AnsiConsole.MarkupLine($"  {Markup.Escape(r.Name)} {Format(r.Value)} (floor {Format(r.Floor)})"));
                Print(external.Record, external.Record.Context.GetValueOrDefault("samples_folder_name", "samples"));
                AnsiConsole.MarkupLine($"appended to {Markup.Escape(external.MetricsPath)}" +
                                       (external.ArtifactsDir is null ? "" : $"; closest pairs in {Markup.Escape(external.ArtifactsDir)}"));
                return 0;
            }
            using var registry = MetricRegistry.CreateDefault();
            RunEvaluation.ResolveMetrics(registry, options.Metrics); // fail on a bad name before loading anything
            RunEvaluation.RequireCheckpoint(folder);
            Hypha.Sampling.Priors.FittedPriors.Precheck(folder, options.Sampler); // a prior not fitted: say so before reading images
            using var session = TrainingSession.OpenTrained(folder, p.GetValue(device), m => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(m)}[/]"));
            if (p.GetValue(threads) is { } t && t > 0) TorchSharp.torch.set_num_threads(t);
            SampleProgressLine? line = null;
            void EndLine() { line?.Finish(); line = null; }
            var result = RunEvaluation.Run(session, options, registry,
                log: m => { EndLine(); AnsiConsole.MarkupLine(Markup.Escape(m)); },
                progress: r => { EndLine(); AnsiConsole.MarkupLine($"  {Markup.Escape(r.Name)} {Format(r.Value)} (floor {Format(r.Floor)})"); },
                sampleProgress: (k, total) => (line ??= new SampleProgressLine(total, options.Batch, "  ")).Images(k),
                sampleStepProgress: (s, n) => line?.Step(s, n));
            Print(result.Record);
            AnsiConsole.MarkupLine($"appended to {Markup.Escape(result.MetricsPath)}" +
                                   (result.ArtifactsDir is null ? "" : $"; closest pairs in {Markup.Escape(result.ArtifactsDir)}"));
            AnsiConsole.MarkupLine($"see it as a page: hypha report --run {Markup.Escape(folder.Root)}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The record as a table: metric, value, real-vs-real floor, better direction, what it measures.</summary>
    public static void Print(EvaluationRecord record) => Print(record, "model");

    /// <summary>As <see cref="Print(EvaluationRecord)"/>, with <paramref name="label"/> heading the value column.</summary>
    public static void Print(EvaluationRecord record, string label)
    {
        var table = new Table().AddColumns("metric", Markup.Escape(label), "floor (real vs real)", "better", "what it measures");
        foreach (var m in record.Metrics)
        {
            var e = MetricGuide.For(m.Name, m.HigherIsBetter);
            table.AddRow(Markup.Escape(m.Name), Format(m.Value), Format(m.Floor), Markup.Escape(e.Better), Markup.Escape(e.Measures));
        }
        foreach (var (name, reason) in record.Skipped)
            table.AddRow(Markup.Escape(name), "skipped", "", "", Markup.Escape(reason));
        AnsiConsole.Write(table);
    }

    static string Format(double? v) => v is null ? "-" : v.Value.ToString("G4", CultureInfo.InvariantCulture);
}
