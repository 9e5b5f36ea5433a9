using Hypha.Imaging;
using Hypha.Models;
using Hypha.Reporting;
using Hypha.Runs;
using static TorchSharp.torch;

namespace Hypha.Sampling;

/// <summary>
/// Writes synthetic chunks a model samples: <c>sample_000000.png</c>... (or one stack <c>samples.tif</c>),
/// <c>grid.png</c> of the first 64, and <c>manifest.csv</c> (<see cref="Manifest"/>: file, index, seed, sampler, run,
/// checkpoint hash).
/// </summary>
public static class SampleWriter
{
    /// <summary>The manifest's file name in a samples folder.</summary>
    public const string ManifestName = "manifest.csv";

    /// <summary>The stack's name (without extension) with a stack format.</summary>
    public const string StackName = "samples";

    /// <param name="seed">Seed of every draw; image i depends only on (seed, i).</param>
    /// <param name="format">Default <see cref="ImageFormat.Png8"/>.</param>
    /// <param name="batch">Images generated at once; default 256. Jobs of one sharded set need the same batch.</param>
    /// <param name="overwrite">Write into a folder that holds files; sample files of an earlier set that this set does
    /// not replace are removed afterwards (<see cref="StaleSamples"/>), so the folder holds one set. Default false.</param>
    /// <param name="progress">Called with the number of images this job has made so far.</param>
    /// <param name="settings">Family sampling options (steps, eta, sampler); default the model's own.</param>
    /// <param name="shard">Write only this slice of the set (<see cref="Shard.Batches"/>); default the whole set. Jobs of
    /// one set share the folder: see <see cref="OutputFolder.Join"/>.</param>
    /// <param name="provenance">The run and checkpoint hash for the manifest; default empty fields.</param>
    /// <param name="stepProgress">Called after each denoising step of a batch with (steps done, steps per batch);
    /// see <see cref="SampleRequest.StepProgress"/>. Default none.</param>
    /// <param name="log">Notes (files removed by <paramref name="overwrite"/>, an empty shard).</param>
    /// <returns>The image files this job wrote (one stack file for a stack format).</returns>
    public static IReadOnlyList<string> Write(IGenerativeModel model, Device device, int count, string outDir, long seed,
        ImageFormat format = ImageFormat.Png8, int batch = 256, bool overwrite = false, Action<int>? progress = null,
        SamplerSettings? settings = null, Shard? shard = null, SampleProvenance? provenance = null, Action<string>? log = null,
        Action<int, int>? stepProgress = null)
    {
        if (count < 1) throw HyphaException.Config($"--count must be at least 1 (got {count})");
        if (batch < 1) throw HyphaException.Config($"--batch must be at least 1 (got {batch})");
        settings ??= new SamplerSettings();
        var part = shard ?? Shard.Whole;
        RefuseStackShards(format, part);
        if (format.IsStack()) TiffStackWriter.Check(count, model.Channels, model.Resolution, model.Resolution, format.BitDepth());
        var sampler = model.DescribeSampler(settings); // refuses settings the family does not take, before any work
        provenance ??= new SampleProvenance("", "");

        var (start, end) = part.Batches(count, batch);
        using var output = part.IsPart ? null : OutputFolder.Begin(outDir, overwrite);
        // The manifest lists the whole set, so that every job of a sharded set writes (and expects) the same text.
        var manifest = Manifest.Format(Enumerable.Range(0, count).Select(i => Row(Name(format, i), i, seed, sampler, provenance)));
        using var joined = part.IsPart ? OutputFolder.Join(outDir, overwrite, ManifestName, manifest) : null;
        var target = (output ?? joined)!;
        // With --overwrite, an earlier set's manifest goes first, so that a job that fails midway leaves none that lies about the files.
        if (output is not null) File.Delete(Path.Combine(outDir, ManifestName));
        if (start == end)
            log?.Invoke($"shard {part} has no samples: {count} sample(s) in batches of {batch} make {(count + batch - 1) / batch} batch(es), fewer than {part.Count} shards");

        var written = new List<string>();
        using var sink = start == end ? null : ImageSink.Create(target, "", "sample", StackName, format, count, model.Channels, model.Resolution);
        // grid.png shows images 0..63: the job whose slice starts the set writes it, sampling past its slice if it must.
        var gridCount = start == 0 && end > 0 ? Math.Min(64, count) : 0;
        Tensor? grid = null;
        try
        {
            for (var i = start; i < Math.Max(end, gridCount); i += batch)
            {
                using var scope = NewDisposeScope();
                var done = i - start;
                var images = Batch(model, device, seed, settings, batch, i, count, i < end ? k => progress?.Invoke(done + k) : null,
                    i < end ? stepProgress : null);
                if (i < end)
                {
                    sink!.AddBatch(i, images);
                    if (!format.IsStack())
                        for (var k = 0; k < images.shape[0]; k++) written.Add(Path.Combine(outDir, Name(format, i + k).Path));
                }
                if (i < gridCount)
                {
                    var take = images.narrow(0, 0, Math.Min(gridCount - i, images.shape[0]));
                    var next = grid is null ? take.clone() : cat([grid, take], 0);
                    grid?.Dispose();
                    grid = next.MoveToOuterDisposeScope();
                }
            }
            if (sink is not null)
            {
                sink.Commit();
                if (format.IsStack()) written.Add(Path.Combine(outDir, Name(format, 0).Path));
            }
            if (grid is not null)
                using (var tiles = ImageGrid.Tile(grid, columns: 8))
                    AtomicFile.WriteAllBytes(target.Claim(Path.Combine(outDir, "grid.png")), ImageEncoding.Encode(tiles, ImageFormat.Png8));
        }
        finally
        {
            grid?.Dispose();
        }
        if (joined is not null) OutputFolder.ConfirmJoined(outDir, ManifestName, manifest);
        else AtomicFile.WriteAllText(Path.Combine(outDir, ManifestName), manifest);
        target.Commit();
        if (overwrite)
        {
            var keep = Enumerable.Range(0, format.IsStack() ? 1 : count).Select(i => Path.Combine(outDir, Name(format, i).Path));
            if (StaleSamples.Remove(outDir, keep) is { Count: > 0 } stale)
                log?.Invoke($"removed {stale.Count} earlier sample file(s) this set does not replace, so the folder holds one set");
        }
        return written;
    }

    /// <summary>Refuses <c>--shard</c> with a stack format: a stack is one file, which N jobs cannot write together.</summary>
    public static void RefuseStackShards(ImageFormat format, Shard shard)
    {
        if (format.IsStack() && shard.IsPart)
            throw HyphaException.Config("--shard writes one file per image and --format tiff-stack one file for all: shard with png8 or tiff16, or write the stack in one job");
    }

    /// <summary>Images [i, min(i + batch, count)) of the seeded set, as one request: the unit in which every job
    /// computes them (<see cref="Shard.Batches"/> slices on these boundaries).</summary>
    internal static Tensor Batch(IGenerativeModel model, Device device, long seed, SamplerSettings settings, int batch, int i, int count,
        Action<int>? progress, Action<int, int>? stepProgress = null) =>
        model.Sample(new SampleRequest(Math.Min(batch, count - i), seed)
            { Start = i, Batch = batch, Device = device, Settings = settings, Progress = progress, StepProgress = stepProgress });

    /// <summary>The file (and stack page) of sample <paramref name="index"/> in a samples folder.</summary>
    public static (string Path, int? Page) Name(ImageFormat format, int index) => ImageSink.NameOf("", "sample", StackName, format, index);

    static ManifestRow Row((string Path, int? Page) name, int index, long seed, string sampler, SampleProvenance p) => new()
    {
        Path = name.Path, Page = name.Page, Kind = "synthetic", Index = index, Seed = seed, Sampler = sampler,
        Run = p.Run, CheckpointSha256 = p.CheckpointSha256,
    };
}
