using System.Globalization;
using Hypha.Data;
using Hypha.Evaluation;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Runs;
using static TorchSharp.torch;

namespace Hypha.Sampling;

/// <summary>What <c>hypha augment</c> writes.</summary>
public sealed record AugmentOptions
{
    /// <summary>Synthetic images to write; exactly one of this and <see cref="SyntheticPerReal"/> is given.</summary>
    public int? Count { get; init; }

    /// <summary>Synthetic images per real training chunk written (rounded to the nearest whole number of images).</summary>
    public double? SyntheticPerReal { get; init; }

    /// <summary>Seed of the synthetic images; image i depends only on (seed, i), as with <c>hypha sample</c>. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Default <see cref="ImageFormat.Png8"/>; a stack format writes one stack per part and class.</summary>
    public ImageFormat Format { get; init; } = ImageFormat.Png8;

    /// <summary>Images generated at once; default 256. Jobs of one sharded set need the same batch.</summary>
    public int Batch { get; init; } = 256;

    /// <summary>Replace this class where the folder holds it (and write into a folder with other files); default false.</summary>
    public bool Overwrite { get; init; }

    /// <summary>The class folder's name inside real/, synthetic/ and test-real/; default (null) the run folder's name.</summary>
    public string? Class { get; init; }

    /// <summary>Family sampling options; default the model's own.</summary>
    public SamplerSettings Settings { get; init; } = new();

    /// <summary>Write only this slice of every part; default the whole set.</summary>
    public Shard Shard { get; init; } = Shard.Whole;
}

/// <summary>What one <see cref="AugmentWriter.Write"/> call planned and wrote.</summary>
/// <param name="Class">The class folder's name.</param>
/// <param name="Real">Real training chunks in the set (real/CLASS).</param>
/// <param name="Synthetic">Synthetic images in the set (synthetic/CLASS).</param>
/// <param name="Validation">Real validation chunks in the set (test-real/CLASS).</param>
/// <param name="Test">Real test chunks in the set (test-real/CLASS).</param>
/// <param name="Manifest">The manifest's path.</param>
/// <param name="Written">Image files this job wrote.</param>
public sealed record AugmentResult(string Class, int Real, int Synthetic, int Validation, int Test, string Manifest, IReadOnlyList<string> Written);

/// <summary>Progress of one part: <paramref name="Part"/> is real, synthetic or test-real; counts are this job's.</summary>
public sealed record AugmentProgress(string Part, int Done, int Total);

/// <summary>
/// <c>hypha augment</c>: a training-ready folder from a run, laid out as PyTorch's <c>ImageFolder</c> reads it
/// (root/CLASS/image): <c>real/CLASS/</c> the run's training chunks, <c>synthetic/CLASS/</c> samples of its model,
/// <c>test-real/CLASS/</c> its validation and test chunks, which the model never trained on, so a downstream model
/// judged on them is judged on real chunks it never saw; and <c>manifest-CLASS.csv</c>, one row per image
/// (<see cref="Manifest"/>). The split is the run's own (<see cref="RunData"/>, checked against dataset.json), so no
/// chunk of test-real/ overlaps a training chunk more than the run's split allows. Real chunks are written as the model
/// sees them (normalized to [0, 1] as the run normalized its images), on the same intensity scale as the synthetic
/// ones. Several classes (one run each) can be written into one folder, one call per class.
/// </summary>
public static class AugmentWriter
{
    public const string RealDir = "real";
    public const string SyntheticDir = "synthetic";
    public const string TestDir = "test-real";

    /// <summary>The manifest of class <paramref name="name"/>: <c>manifest-NAME.csv</c> in the output folder.</summary>
    public static string ManifestName(string name) => $"manifest-{name}.csv";

    /// <summary>Writes the set; every check (options, sampler settings, the output folder, the split) comes before any image is made.</summary>
    public static AugmentResult Write(RunFolder run, IGenerativeModel model, Device device, SampleProvenance provenance, string outDir,
        AugmentOptions options, Action<AugmentProgress>? progress = null, Action<string>? log = null)
    {
        var cls = options.Class ?? Path.GetFileName(run.Root);
        CheckOptions(options, cls);
        var format = options.Format;
        var shard = options.Shard;
        SampleWriter.RefuseStackShards(format, shard);
        var sampler = model.DescribeSampler(options.Settings);
        CheckFolder(outDir, cls, options.Overwrite, shard.IsPart); // before the run's images are read

        using var data = RunData.Open(run, log);
        var prepared = data.Data;
        CheckSplit(run, prepared, log);
        if (prepared.Index.SplitMode == SplitMode.Chunks)
            log?.Invoke("warning: the run was split by random chunks (--split chunks, as the thesis): its validation and test chunks overlap training chunks, " +
                        "so test-real/ shares pixels with real/ and the model's training; split by images or regions for an independent test part");
        if (model.Resolution != prepared.ChunkSize || model.Channels != prepared.Channels)
            throw HyphaException.Config($"the run's model ({model.Kind}) makes {model.Channels}-channel {model.Resolution}x{model.Resolution} images but its chunks are " +
                                        $"{prepared.Channels}-channel {prepared.ChunkSize}x{prepared.ChunkSize} (a progressive run stopped before its last stage?): " +
                                        "finish training, so that real and synthetic chunks have one size");
        var train = prepared.Index.Train;
        var held = prepared.Index.Validation.Select((c, i) => (Split: DataSplit.Validation, Chunk: c, Index: i))
            .Concat(prepared.Index.Test.Select((c, i) => (Split: DataSplit.Test, Chunk: c, Index: i))).ToList();
        if (train.Count == 0) throw new HyphaException(ExitCode.BadInput, "the run's training part is empty", run.Root);
        var count = options.Count ?? (int)Math.Round(options.SyntheticPerReal!.Value * train.Count, MidpointRounding.AwayFromZero);
        if (count < 1)
            throw HyphaException.Config($"--synthetic-per-real {options.SyntheticPerReal!.Value.ToString(CultureInfo.InvariantCulture)} x {train.Count:N0} training chunk(s) gives no synthetic image");
        int size = prepared.ChunkSize, channels = prepared.Channels, bits = format.BitDepth();
        if (format.IsStack())
            foreach (var n in new[] { train.Count, count, held.Count }.Where(n => n > 0)) TiffStackWriter.Check(n, channels, size, size, bits);

        var realDir = $"{RealDir}/{cls}";
        var synDir = $"{SyntheticDir}/{cls}";
        var testDir = $"{TestDir}/{cls}";
        (string Path, int? Page) RealName(int i) => ImageSink.NameOf(realDir, "real", "real", format, i);
        (string Path, int? Page) SynName(int i) => ImageSink.NameOf(synDir, "sample", "synthetic", format, i);
        (string Path, int? Page) HeldName(int j) => format.IsStack()
            ? ImageSink.NameOf(testDir, "", "test-real", format, j)
            : ImageSink.NameOf(testDir, Split(held[j].Split), "", format, held[j].Index);
        var manifestName = ManifestName(cls);
        var manifest = Manifest.Format(
            train.Select((c, i) => RealRow(RealName(i), i, DataSplit.Train, c, prepared, cls, provenance))
                .Concat(Enumerable.Range(0, count).Select(i => new ManifestRow
                {
                    Path = SynName(i).Path, Page = SynName(i).Page, Kind = "synthetic", Class = cls, Index = i, Seed = options.Seed, Sampler = sampler,
                    Run = provenance.Run, CheckpointSha256 = provenance.CheckpointSha256,
                }))
                .Concat(held.Select((h, j) => RealRow(HeldName(j), h.Index, h.Split, h.Chunk, prepared, cls, provenance))));

        var existed = Directory.Exists(outDir);
        OutputFolder.EnsureWritable(outDir);
        using var output = shard.IsPart
            ? OutputFolder.Join(outDir, options.Overwrite, manifestName, manifest,
                () => new[] { realDir, synDir, testDir }.Select(d => Path.Combine(outDir, d)).Any(d => Directory.Exists(d) && OutputFolder.Visible(d).Any()))
            : new OutputFolder.Output(outDir, existed, Directory.EnumerateFiles(outDir).ToHashSet(), trackedOnly: false);
        // Replacing a class: its old manifest goes first, so that a job that fails midway leaves none that lies about the files.
        if (!shard.IsPart) File.Delete(Path.Combine(outDir, manifestName));
        // Synthetic first: sampling is where a model or setting problem shows, before the cheap parts are written.
        var (s0, s1) = shard.Batches(count, options.Batch);
        if (s1 > s0)
        {
            output.Folder(Path.Combine(outDir, synDir));
            using var sink = ImageSink.Create(output, synDir, "sample", "synthetic", format, count, channels, size);
            for (var i = s0; i < s1; i += options.Batch)
            {
                using var scope = NewDisposeScope();
                var done = i - s0;
                var images = SampleWriter.Batch(model, device, options.Seed, options.Settings, options.Batch, i, count,
                    k => progress?.Invoke(new AugmentProgress(SyntheticDir, done + k, s1 - s0)));
                sink.AddBatch(i, images);
            }
            sink.Commit();
        }

        var (r0, r1) = shard.Even(train.Count);
        if (r1 > r0)
        {
            output.Folder(Path.Combine(outDir, realDir));
            using var sink = ImageSink.Create(output, realDir, "real", "real", format, train.Count, channels, size);
            Cut(data.Bank, train, r0, r1, sink.AddBatch, RealDir, progress);
            sink.Commit();
        }

        // test-real/: files named by their own part and index (validation_000000, test_000000); a stack holds validation then test.
        var (h0, h1) = shard.Even(held.Count);
        if (h1 > h0)
        {
            output.Folder(Path.Combine(outDir, testDir));
            var heldChunks = held.Select(h => h.Chunk).ToList();
            if (format.IsStack())
            {
                using var sink = ImageSink.Create(output, testDir, "", "test-real", format, held.Count, channels, size);
                Cut(data.Bank, heldChunks, h0, h1, sink.AddBatch, TestDir, progress);
                sink.Commit();
            }
            else
            {
                using var val = ImageSink.Create(output, testDir, Split(DataSplit.Validation), "", format, 0, channels, size);
                using var test = ImageSink.Create(output, testDir, Split(DataSplit.Test), "", format, 0, channels, size);
                Cut(data.Bank, heldChunks, h0, h1, (j, x) =>
                {
                    var pixels = ImageEncoding.BatchPixels(x, format.BitDepth());
                    for (var k = 0; k < pixels.Length; k++)
                        (held[j + k].Split == DataSplit.Validation ? val : test).Add(held[j + k].Index, pixels[k], channels, size);
                }, TestDir, progress);
                val.Commit();
                test.Commit();
            }
        }

        if (shard.IsPart) OutputFolder.ConfirmJoined(outDir, manifestName, manifest);
        else AtomicFile.WriteAllText(Path.Combine(outDir, manifestName), manifest);
        output.Commit();
        if (options.Overwrite) RemoveStale(outDir, cls, manifest, log);
        var written = Enumerable.Range(s0, s1 - s0).Select(SynName).Concat(Enumerable.Range(r0, r1 - r0).Select(RealName))
            .Concat(Enumerable.Range(h0, h1 - h0).Select(HeldName)).Select(n => Path.Combine(outDir, n.Path)).Distinct().ToList();
        return new AugmentResult(cls, train.Count, count, prepared.Index.Validation.Count, prepared.Index.Test.Count, Path.Combine(outDir, manifestName), written);
    }

    /// <summary>Cuts chunks [start, end) of <paramref name="chunks"/> from the bank in batches of 256 and hands each
    /// batch, [n, C, S, S], to <paramref name="add"/> with the index of its first chunk.</summary>
    static void Cut(ChunkBank bank, IReadOnlyList<ChunkRef> chunks, int start, int end, Action<int, Tensor> add, string part, Action<AugmentProgress>? progress)
    {
        const int batch = 256;
        for (var j = start; j < end; j += batch)
        {
            using var scope = NewDisposeScope();
            var n = Math.Min(batch, end - j);
            add(j, bank.Cut(chunks, j, n).to_type(ScalarType.Float32));
            progress?.Invoke(new AugmentProgress(part, j + n - start, end - start));
        }
    }

    static string Split(DataSplit s) => s == DataSplit.Validation ? "validation" : s == DataSplit.Test ? "test" : "train";

    static ManifestRow RealRow((string Path, int? Page) name, int index, DataSplit split, ChunkRef c, PreparedData data, string cls, SampleProvenance p) => new()
    {
        Path = name.Path, Page = name.Page, Kind = "real", Split = Split(split), Class = cls, SourceImage = data.Images[c.Image].Source,
        SourcePage = data.Images[c.Image].Page, X = c.X, Y = c.Y, Index = index, Run = p.Run, CheckpointSha256 = p.CheckpointSha256,
    };

    /// <summary>Configuration errors in <paramref name="o"/> for class <paramref name="cls"/>, one line each (the CLI checks before reading the checkpoint).</summary>
    public static void CheckOptions(AugmentOptions o, string cls)
    {
        if (o.Count is null == o.SyntheticPerReal is null)
            throw HyphaException.Config(o.Count is null
                ? "give --count N (synthetic images) or --synthetic-per-real R (synthetic images per real training chunk)"
                : "--count and --synthetic-per-real both say how many synthetic images to write: give one");
        if (o.Count is < 1) throw HyphaException.Config($"--count must be at least 1 (got {o.Count})");
        if (o.SyntheticPerReal is { } r && !(r > 0 && double.IsFinite(r)))
            throw HyphaException.Config($"--synthetic-per-real must be a positive number (got {r.ToString(CultureInfo.InvariantCulture)})");
        if (o.Batch < 1) throw HyphaException.Config($"--batch must be at least 1 (got {o.Batch})");
        if (cls.Length == 0 || cls is "." or ".." || cls.StartsWith('.') || cls.Any(ch => ch is '/' or '\\' || char.IsControl(ch)))
            throw HyphaException.Config($"--class: '{cls}' must be a folder name (not empty, no '/' or '\\', not starting with '.')");
    }

    /// <summary>
    /// The output folder may be missing or empty, or hold other classes that augment wrote (real/X, synthetic/X,
    /// test-real/X, manifest-X.csv): classes are added one call each. Anything else, or this class already, is refused
    /// without --overwrite, except that a sharded job joins its own set (<see cref="OutputFolder.Join"/> compares the manifests).
    /// </summary>
    static void CheckFolder(string outDir, string cls, bool overwrite, bool sharded)
    {
        if (File.Exists(outDir)) throw new HyphaException(ExitCode.OutputError, "is a file, not a folder", outDir);
        if (overwrite || !Directory.Exists(outDir)) return;
        var foreign = new List<string>();
        var mine = new List<string>();
        foreach (var e in OutputFolder.Visible(outDir))
        {
            var name = Path.GetFileName(e);
            if (Directory.Exists(e) && name is RealDir or SyntheticDir or TestDir)
            {
                foreach (var inner in OutputFolder.Visible(e))
                    if (!Directory.Exists(inner)) foreign.Add(inner);
                    else if (Path.GetFileName(inner) == cls && OutputFolder.Visible(inner).Any()) mine.Add(inner);
            }
            else if (File.Exists(e) && name.StartsWith("manifest-", StringComparison.Ordinal) && name.EndsWith(".csv", StringComparison.Ordinal))
            {
                if (name == ManifestName(cls)) mine.Add(e);
            }
            else foreign.Add(e);
        }
        if (foreign.Count > 0)
            throw new HyphaException(ExitCode.OutputError, $"the output folder holds files that are not hypha augment's ({Path.GetRelativePath(outDir, foreign[0])}" +
                                                           $"{(foreign.Count > 1 ? $" and {foreign.Count - 1} more" : "")}); choose an empty folder or pass --overwrite", outDir);
        if (mine.Count > 0 && !sharded)
            throw new HyphaException(ExitCode.OutputError, $"the output folder already holds class '{cls}' ({Path.GetRelativePath(outDir, mine[0])}); " +
                                                           "pass --overwrite to replace it, or --class NAME to add another class", outDir);
    }

    /// <summary>
    /// The split rebuilt from config.json must be the one the model was trained on: dataset.json's counts per image and
    /// part must match, or real/ and test-real/ could hold chunks the model trained on as test chunks.
    /// </summary>
    static void CheckSplit(RunFolder run, PreparedData data, Action<string>? log)
    {
        var recorded = DatasetSummary.Read(run.DatasetPath);
        if (recorded is null)
        {
            log?.Invoke($"note: {run.DatasetPath} is missing: the split rebuilt from config.json cannot be checked against the one the model was trained on");
            return;
        }
        var now = DatasetSummary.From(data);
        if (recorded.Train == now.Train && recorded.Validation == now.Validation && recorded.Test == now.Test
            && recorded.Images.Select(i => (i.Label, i.Train, i.Validation, i.Test)).SequenceEqual(now.Images.Select(i => (i.Label, i.Train, i.Validation, i.Test))))
            return;
        throw HyphaException.Input(run.DatasetPath,
            $"the run's images no longer give the split it was trained on ({recorded.Train:N0} train / {recorded.Validation:N0} validation / {recorded.Test:N0} test chunks " +
            $"recorded, {now.Train:N0} / {now.Validation:N0} / {now.Test:N0} now): images were changed, added or removed since training, " +
            "so test-real/ could hold chunks the model trained on; restore them or train again");
    }

    /// <summary>With --overwrite: image files in this class's folders that the new set does not hold (an earlier,
    /// larger set, or another format) go, so each class folder holds one set.</summary>
    static void RemoveStale(string outDir, string cls, string manifest, Action<string>? log)
    {
        var keep = Manifest.FromText(manifest).Select(r => Path.GetFullPath(Path.Combine(outDir, r.Path))).ToHashSet(StringComparer.Ordinal);
        var stale = new[] { RealDir, SyntheticDir, TestDir }.Select(d => Path.Combine(outDir, d, cls)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d)).Where(f => ImageFiles.IsImage(f) && !keep.Contains(Path.GetFullPath(f))).ToList();
        foreach (var f in stale) File.Delete(f);
        if (stale.Count > 0) log?.Invoke($"removed {stale.Count} earlier image file(s) of class '{cls}' that this set does not hold, so the class holds one set");
    }
}
