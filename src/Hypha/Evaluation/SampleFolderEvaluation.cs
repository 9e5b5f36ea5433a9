using System.Globalization;
using Hypha.Data;
using Hypha.Runs;
using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>A run's data rebuilt from its config.json alone (no model, no checkpoint), on the CPU.</summary>
public sealed class RunData : IDisposable
{
    public required RunFolder Run { get; init; }
    public required RunConfig Config { get; init; }
    public required PreparedData Data { get; init; }
    public required ChunkBank Bank { get; init; }

    /// <summary>Reads config.json and re-reads the run's images (<see cref="DatasetBuilder.Build"/> with the run's seed): the same split as training.</summary>
    public static RunData Open(RunFolder run, Action<string>? log = null)
    {
        var config = run.ReadConfig();
        var data = run.ReadData(config, log);
        return new RunData { Run = run, Config = config, Data = data, Bank = new ChunkBank(data, CPU) };
    }

    /// <summary>The training chunks <c>hypha evaluate</c> uses for <paramref name="trainLimit"/> and <paramref name="seed"/> (same subset as <see cref="RunEvaluation"/>).</summary>
    public List<ChunkRef> TrainSubset(int trainLimit, long seed) => RunEvaluation.Subset(Data.Index.Train, trainLimit, seed, 0x7A1);

    /// <summary>The test chunks <c>hypha evaluate</c> uses for <paramref name="testLimit"/> and <paramref name="seed"/> (same subset as <see cref="RunEvaluation"/>).</summary>
    public List<ChunkRef> TestSubset(int testLimit, long seed) => RunEvaluation.Subset(Data.Index.Test, testLimit, seed, 0x7E5);

    /// <summary>Chunks cut at the chunk size as CPU float32 [N, C, S, S].</summary>
    public Tensor Cut(IReadOnlyList<ChunkRef> chunks, int batch = 128)
    {
        var parts = new List<Tensor>();
        for (var s = 0; s < chunks.Count; s += batch)
        {
            using var inner = NewDisposeScope();
            parts.Add(Bank.Cut(chunks, s, Math.Min(batch, chunks.Count - s)).to_type(ScalarType.Float32).contiguous().MoveToOuterDisposeScope());
        }
        return cat(parts, 0);
    }

    public void Dispose() => Bank.Dispose();
}

/// <summary>
/// <c>hypha evaluate --run RUN --samples FOLDER</c>: scores images made by any generator against the run's real test
/// chunks with every metric that needs no model, beside the same floors as <see cref="RunEvaluation"/>, and appends
/// one line (context source = <see cref="Source"/>) to RUN/metrics.jsonl.
/// </summary>
/// <remarks>
/// The same training subset, test subset and test halves as <see cref="RunEvaluation.Run"/> for the same seed and
/// limits (<see cref="RunEvaluation.Subset"/>, <see cref="EvaluationInputs.FromTestSplit"/>), so the floors are the
/// model's floors. Chunks are used at the chunk size (the model path brings them to the model's resolution, which is
/// the same except in a progressive model's early stages). Every image of the folder is used, whatever the count.
/// </remarks>
public static class SampleFolderEvaluation
{
    /// <summary>Value of the context key "source" on lines this writes (lines without the key are the model's own).</summary>
    public const string Source = "samples_folder";

    /// <summary>Why psnr, ssim and iwae_bits_per_dim are skipped.</summary>
    public const string NeedsModel = "needs the model (a samples folder has no encoder or likelihood)";

    /// <summary>The source of a metrics.jsonl line: "model" unless its context says otherwise.</summary>
    public static string SourceOf(EvaluationRecord r) => r.Context.TryGetValue("source", out var s) ? s : "model";

    /// <summary>Reads the folder, evaluates, appends the line and writes the closest pairs under RUN/evaluation/.</summary>
    public static RunEvaluationResult Run(RunFolder run, string folder, SampleFolderOptions? readOptions, RunEvaluationOptions options,
        MetricRegistry registry, Action<string>? log = null, Action<MetricResult>? progress = null)
    {
        options.Validated();
        var names = RunEvaluation.ResolveMetrics(registry, options.Metrics);
        if (!File.Exists(run.ConfigPath))
            throw new HyphaException(ExitCode.BadCheckpoint, "has no config.json: not a Hypha run folder", run.Root);
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full)) // before the run's images are read
            throw HyphaException.Input(full, File.Exists(full) ? "is a file; --samples takes a folder of images" : "no such folder");
        using var data = RunData.Open(run, log);
        var config = data.Config;
        readOptions ??= new SampleFolderOptions { Size = config.Data.Chunk, Channels = config.Data.Channels };
        readOptions = readOptions with { Size = config.Data.Chunk, Channels = config.Data.Channels };
        var index = data.Data.Index;
        if (index.Test.Count < 4) throw new HyphaException(ExitCode.BadInput, $"the run's test part holds {index.Test.Count} chunks; evaluation needs at least 4", run.Root);
        if (index.Train.Count == 0) throw new HyphaException(ExitCode.BadInput, "the run's training part is empty", run.Root);

        var images = SampleFolder.Read(folder, readOptions, log);
        using var samples = images.Images;
        using var scope = NewDisposeScope();
        log?.Invoke($"read {samples.shape[0]:N0} images from {images.Files.Count:N0} files in {images.Folder}" +
                    (images.Skipped.Count > 0 ? $" ({images.Skipped.Count} skipped)" : "") + (images.Resized > 0 ? $", {images.Resized} resized" : ""));
        var trainRefs = data.TrainSubset(options.TrainLimit, options.Seed);
        var testRefs = data.TestSubset(options.TestLimit, options.Seed);
        log?.Invoke($"cutting {trainRefs.Count:N0} of {index.Train.Count:N0} training and {testRefs.Count:N0} of {index.Test.Count:N0} test chunks");
        var train = data.Cut(trainRefs, options.Batch);
        var test = data.Cut(testRefs, options.Batch);
        var halfB = testRefs.Count / 2;
        if (samples.shape[0] != halfB)
            log?.Invoke($"note: {samples.shape[0]:N0} images against {halfB:N0} real chunks in the floor's stand-in set: fd_resnet18, kid and the PRDC metrics depend on set sizes, so give {halfB:N0} for numbers comparable with the floor");

        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var label = Path.GetFileName(images.Folder.TrimEnd('/', '\\'));
        var artifactsRel = Path.Combine(RunEvaluation.ArtifactsDirName, $"{stamp}-samples-{Safe(label)}");
        var context = new Dictionary<string, string>
        {
            ["source"] = Source,
            ["run"] = Path.GetFileName(run.Root),
            ["samples_folder"] = images.Folder,
            ["samples_folder_name"] = label,
            ["samples_files"] = images.Files.Count.ToString(CultureInfo.InvariantCulture),
            ["samples_sha256"] = images.Sha256,
            ["samples_skipped"] = images.Skipped.Count.ToString(CultureInfo.InvariantCulture),
            ["resize"] = readOptions.Resize == SampleResize.Area ? "area" : "none",
            ["resized"] = images.Resized.ToString(CultureInfo.InvariantCulture),
            ["normalize_like_run"] = readOptions.NormalizeLike is null ? "false" : "true",
            ["resolution"] = config.Data.Chunk.ToString(CultureInfo.InvariantCulture),
            ["train_chunks"] = index.Train.Count.ToString(CultureInfo.InvariantCulture),
            ["train_used"] = trainRefs.Count.ToString(CultureInfo.InvariantCulture),
            ["test_chunks"] = index.Test.Count.ToString(CultureInfo.InvariantCulture),
            ["test_used"] = testRefs.Count.ToString(CultureInfo.InvariantCulture),
            ["samples"] = samples.shape[0].ToString(CultureInfo.InvariantCulture),
        };

        using var inputs = EvaluationInputs.FromTestSplit(train, test, options.Seed, samples: samples);
        var record = Evaluator.Run(registry, inputs, names, context, progress);
        var skipped = record.Skipped.ToDictionary(kv => kv.Key,
            kv => kv.Key is PsnrMetric.Key or SsimMetric.Key or IwaeMetric.Key ? NeedsModel : kv.Value);
        record = record with { Skipped = skipped };

        string? artifacts = null;
        var memo = record.Metrics.FirstOrDefault(m => m.ClosestPairs is { Count: > 0 });
        if (memo is not null)
        {
            artifacts = Path.Combine(run.Root, artifactsRel);
            ClosestPairImages.Write(artifacts, memo.ClosestPairs!, samples, train);
            record = record with { Context = new Dictionary<string, string>(context) { [RunEvaluation.ArtifactsKey] = artifactsRel.Replace('\\', '/') } };
        }
        var path = RunEvaluation.MetricsPath(run);
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

    static string Safe(string name)
    {
        var s = new string(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_').ToArray());
        return s.Length == 0 ? "folder" : s;
    }
}
