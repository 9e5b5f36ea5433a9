using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Reporting;
using Hypha.Runs;
using Hypha.Torch;
using static TorchSharp.torch;

namespace Hypha.Sampling;

/// <summary>Which files <c>hypha synthesize</c> writes of each whole image.</summary>
public enum WholeImageFormat
{
    /// <summary>Both the 8-bit PNG and the 16-bit TIFF (default).</summary>
    Both,
    /// <summary>The 8-bit PNG only.</summary>
    Png8,
    /// <summary>The 16-bit TIFF only.</summary>
    Tiff16,
}

/// <summary>What <c>hypha synthesize</c> is asked for.</summary>
public sealed record WholeImageOptions
{
    /// <summary>Image width in pixels (at least the chunk).</summary>
    public required int Width { get; init; }

    /// <summary>Image height in pixels (at least the chunk).</summary>
    public required int Height { get; init; }

    /// <summary>Images to write; default 1.</summary>
    public int Count { get; init; } = 1;

    /// <summary>Seed of every random draw; default 0. Image i depends only on (seed, i), the size, stride and settings.</summary>
    public long Seed { get; init; }

    /// <summary>Pixels between window starts, 1..chunk; default null: half the chunk (rounded down, at least 1).</summary>
    public int? Stride { get; init; }

    /// <summary>Windows run through the network at once; default 32. Memory grows with it, not with the image.</summary>
    public int Batch { get; init; } = 32;

    /// <summary>How overlapping windows are weighed; default null: the model's own (<see cref="IWholeImageModel.Weighting"/>).</summary>
    public WindowWeighting? Weighting { get; init; }

    /// <summary>Files per image; default both PNG and TIFF.</summary>
    public WholeImageFormat Format { get; init; } = WholeImageFormat.Both;

    /// <summary>Write into a folder that holds files; default false.</summary>
    public bool Overwrite { get; init; }

    /// <summary>Family sampling options (steps, eta, sampler); default the run's own.</summary>
    public SamplerSettings Settings { get; init; } = new();

    /// <summary>Bytes the job may use; default null: the host's available memory on the CPU (<see cref="MemoryBudget"/>),
    /// and no device check on CUDA, whose free memory TorchSharp does not report.</summary>
    public long? MemoryLimit { get; init; }
}

/// <summary>A checked request, ready to run: the plan, its cost and the memory it was checked against.</summary>
/// <param name="Needed">Bytes the estimate says the job needs (device and host on the CPU; host only on CUDA unless a limit was given).</param>
/// <param name="Available">Bytes it was checked against; null when nothing could be checked.</param>
public sealed record WholeImageJob(IWholeImageModel Model, WindowPlan Plan, WholeImageOptions Options, WholeImageCost Cost, long Needed, long? Available)
{
    /// <summary>Window evaluations of the whole job.</summary>
    public long Evaluations => Cost.Evaluations * Options.Count;
}

/// <summary>Where a job is.</summary>
/// <param name="Image">The image being made (0-based).</param>
/// <param name="Done">Window evaluations finished, all images so far.</param>
/// <param name="Total">Window evaluations of the job.</param>
/// <param name="Seconds">Time since the job started.</param>
public sealed record WholeImageProgress(int Image, int Count, long Done, long Total, double Seconds)
{
    /// <summary>Window evaluations per second so far.</summary>
    public double WindowsPerSecond => Seconds > 0 ? Done / Seconds : 0;

    /// <summary>Time left at the rate so far; null before the first batch.</summary>
    public TimeSpan? Eta => Done > 0 && Seconds > 0 ? TimeSpan.FromSeconds((Total - Done) / WindowsPerSecond) : null;
}

/// <summary>What a job wrote.</summary>
/// <param name="Files">The whole images (PNG and/or TIFF), in order.</param>
/// <param name="SecondsPerMegapixel">Synthesis time (not encoding) per megapixel of output.</param>
public sealed record WholeImageResult(IReadOnlyList<string> Files, string Manifest, string Preview, double Seconds, double SecondsPerMegapixel, double WindowsPerSecond);

/// <summary>
/// <c>hypha synthesize</c>: whole images from a model trained on chunks. <see cref="Plan"/> checks a request and
/// estimates its memory before anything is allocated; <see cref="Write"/> makes the images and writes, each
/// atomically, <c>whole_000000.png</c> (8-bit) and <c>whole_000000.tif</c> (16-bit), <c>preview.png</c> (the first 16
/// images downscaled side by side) and <c>synthesis.json</c> (what was asked, how long it took), then adds a line to
/// the run's <c>whole-images.jsonl</c> so that <c>hypha report</c> can show them.
/// </summary>
public static class WholeImageWriter
{
    /// <summary>The manifest's file name.</summary>
    public const string ManifestName = "synthesis.json";

    /// <summary>The preview's file name.</summary>
    public const string PreviewName = "preview.png";

    /// <summary>The run folder's log of synthesized folders.</summary>
    public const string RunLogName = "whole-images.jsonl";

    /// <summary>Longest side of an image in the preview, in pixels (default 384).</summary>
    public const int PreviewSide = 384;

    /// <summary>Images in the preview (default 16).</summary>
    public const int PreviewCount = 16;

    /// <summary>Host bytes per pixel and channel of encoding an image (float copy, layout, scaled integers, the
    /// codec's buffer and its output).</summary>
    const int EncodingBytes = 24;

    /// <summary>Host memory of the process itself (libtorch, .NET, the model), allowed for on top of a job's estimate: 512 MiB.</summary>
    public const long RuntimeBytes = 512L << 20;

    /// <summary>
    /// What a job with estimate <paramref name="needed"/> must find free: twice the estimate plus
    /// <see cref="RuntimeBytes"/>. The estimate counts tensors; the process's peak resident memory over a 25-step
    /// run was up to twice it above the runtime's own (the allocator keeps freed blocks, and `hypha sample` grows the
    /// same way over its steps; docs/whole-images.md).
    /// </summary>
    public static long Required(long needed) => 2 * needed + RuntimeBytes;

    /// <summary>File name of image <paramref name="i"/>.</summary>
    public static string FileName(int i, ImageFormat format) => $"whole_{i:D6}{format.Extension()}";

    /// <summary>
    /// Checks a request against the model and the memory at hand, allocating nothing: a configuration error for a
    /// count or batch below 1, a model that cannot synthesize, a size smaller than one chunk, a stride outside
    /// 1..chunk, settings the family does not take, or an estimate above the memory available.
    /// </summary>
    public static WholeImageJob Plan(IGenerativeModel model, Device device, WholeImageOptions options)
    {
        if (options.Count < 1) throw HyphaException.Config($"--count must be at least 1 (got {options.Count})");
        if (options.Batch < 1) throw HyphaException.Config($"--batch must be at least 1 (got {options.Batch})");
        var whole = model.Require<IWholeImageModel>("synthesize whole images");
        var window = model.Resolution;
        var plan = WindowPlan.Create(options.Width, options.Height, window, options.Stride ?? Math.Max(1, window / 2));
        var cost = whole.Cost(plan, options.Batch, options.Count, options.Settings);
        long host = cost.HostBytes + EncodingBytes * model.Channels * plan.Pixels;
        var cpu = device.type == TorchSharp.DeviceType.CPU;
        long needed = cpu ? cost.DeviceBytes + host : host;
        var available = options.MemoryLimit ?? MemoryBudget.HostAvailableBytes();
        if (!cpu && options.MemoryLimit is not null) needed = cost.DeviceBytes + host;
        if (available is { } a && Required(needed) > a)
        {
            var batch = Math.Min(options.Batch, plan.Count);
            throw HyphaException.Config(
                $"--size {plan.Width}x{plan.Height} at --batch {options.Batch} needs about {MemoryBudget.Format(needed)} " +
                $"({plan.Count:N0} windows, {batch} at once, on {device.type.ToString().ToLowerInvariant()}; twice that and {MemoryBudget.Format(RuntimeBytes)} for the runtime " +
                $"is more than the {MemoryBudget.Format(a)} available): " +
                "lower --batch or --size");
        }
        return new WholeImageJob(whole, plan, options, cost, needed, available);
    }

    /// <summary>
    /// Makes and writes the images of <paramref name="job"/> into <paramref name="outDir"/> (refused when it holds
    /// files unless <see cref="WholeImageOptions.Overwrite"/>; nothing of a failed or cancelled job is left there).
    /// <paramref name="runRoot"/>, when given, gets a line in its <see cref="RunLogName"/> (a warning to
    /// <paramref name="warn"/> if it cannot be written). <paramref name="progress"/> is called after every window batch.
    /// </summary>
    public static WholeImageResult Write(WholeImageJob job, Device device, string outDir, string? runRoot = null,
        Action<WholeImageProgress>? progress = null, CancellationToken cancel = default, Action<string>? warn = null)
    {
        var o = job.Options;
        var plan = job.Plan;
        var formats = o.Format switch
        {
            WholeImageFormat.Png8 => new[] { ImageFormat.Png8 },
            WholeImageFormat.Tiff16 => [ImageFormat.Tiff16],
            _ => [ImageFormat.Png8, ImageFormat.Tiff16],
        };
        using var output = OutputFolder.Begin(outDir, o.Overwrite);
        var files = new List<string>();
        var previews = new List<Tensor>();
        var clock = Stopwatch.StartNew();
        double synthesisSeconds = 0;
        try
        {
            for (var i = 0; i < o.Count; i++)
            {
                var before = (long)i * job.Cost.Evaluations;
                var image = i;
                var started = clock.Elapsed.TotalSeconds;
                using var result = job.Model.Synthesize(new WholeImageRequest(plan, o.Seed, i)
                {
                    Batch = o.Batch, Device = device, Settings = o.Settings, Cancel = cancel, Weighting = o.Weighting,
                    Progress = done => progress?.Invoke(new WholeImageProgress(image, o.Count, before + PerImageDone(job, done), job.Evaluations, clock.Elapsed.TotalSeconds)),
                });
                synthesisSeconds += clock.Elapsed.TotalSeconds - started;
                foreach (var format in formats)
                {
                    var path = Path.Combine(outDir, FileName(i, format));
                    AtomicFile.WriteAllBytes(path, ImageEncoding.Encode(result, format));
                    files.Add(path);
                }
                if (previews.Count < PreviewCount) previews.Add(Downscale(result, PreviewSide));
            }
            using (var stacked = stack(previews))
            using (var grid = ImageGrid.Tile(stacked, columns: Math.Min(4, previews.Count)))
                AtomicFile.WriteAllBytes(Path.Combine(outDir, PreviewName), ImageEncoding.Encode(grid, ImageFormat.Png8));
        }
        finally
        {
            foreach (var p in previews) p.Dispose();
        }
        var megapixels = o.Count * plan.Pixels / 1e6;
        var manifest = new WholeImageManifest
        {
            Model = job.Model.Kind, Method = job.Model.WholeImageMethod, Weighting = (o.Weighting ?? job.Model.Weighting).ToString().ToLowerInvariant(),
            Width = plan.Width, Height = plan.Height, Count = o.Count, Seed = o.Seed, Window = plan.Window, Stride = plan.Stride,
            WindowsPerImage = plan.Count, Steps = job.Cost.Steps, Batch = o.Batch, Sampler = o.Settings.Sampler ?? o.Settings.Latents?.Name, SampleSteps = o.Settings.Steps,
            Eta = o.Settings.Eta, Device = device.ToString(), Threads = get_num_threads(), Run = runRoot is null ? null : Path.GetFullPath(runRoot),
            Files = files.Select(Path.GetFileName).ToList()!, EstimatedBytes = job.Needed, Seconds = Math.Round(synthesisSeconds, 3),
            SecondsPerMegapixel = Math.Round(synthesisSeconds / megapixels, 3),
            WindowsPerSecond = Math.Round(job.Evaluations / Math.Max(synthesisSeconds, 1e-9), 2),
            Written = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
        var manifestPath = Path.Combine(outDir, ManifestName);
        AtomicFile.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest, JsonOptions) + "\n");
        output.Commit();
        if (o.Overwrite) StaleSamples.Remove(outDir, files, "whole");
        if (runRoot is not null) Record(runRoot, outDir, manifest, warn);
        return new WholeImageResult(files, manifestPath, Path.Combine(outDir, PreviewName), synthesisSeconds, manifest.SecondsPerMegapixel, manifest.WindowsPerSecond);
    }

    /// <summary>A diffusion model reports evaluations within a step; a VAE reports windows: both count up to <see cref="WholeImageCost.Evaluations"/>.</summary>
    static long PerImageDone(WholeImageJob job, long done) => Math.Min(done, job.Cost.Evaluations);

    /// <summary>[C, H, W] shrunk by area averaging so that its longer side is at most <paramref name="side"/> (never enlarged).</summary>
    public static Tensor Downscale(Tensor chw, int side)
    {
        int h = (int)chw.shape[1], w = (int)chw.shape[2];
        var factor = Math.Max(1.0, Math.Max(h, w) / (double)side);
        if (factor == 1.0) return chw.clone();
        using var scope = NewDisposeScope();
        long nh = Math.Max(1, (long)Math.Round(h / factor)), nw = Math.Max(1, (long)Math.Round(w / factor));
        return nn.functional.interpolate(chw.unsqueeze(0), [nh, nw], mode: InterpolationMode.Area)[0].MoveToOuterDisposeScope();
    }

    static void Record(string runRoot, string outDir, WholeImageManifest manifest, Action<string>? warn)
    {
        var path = Path.Combine(runRoot, RunLogName);
        try
        {
            var line = JsonSerializer.Serialize(new WholeImageLogLine(Path.GetFullPath(outDir), manifest.Method, manifest.Width, manifest.Height,
                manifest.Count, manifest.Seed, manifest.Written), LineOptions);
            var fresh = !File.Exists(path) || new FileInfo(path).Length == 0 || File.ReadAllBytes(path)[^1] == '\n';
            File.AppendAllText(path, (fresh ? "" : "\n") + line + "\n"); // a torn last line stays apart, and is skipped
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn?.Invoke($"{path}: cannot record the synthesized folder ({e.Message.TrimEnd('.')}); hypha report will not show it");
        }
    }

    /// <summary>The folders recorded in <paramref name="runRoot"/>'s <see cref="RunLogName"/> that still hold their
    /// manifest, oldest first (lines that do not parse are left out).</summary>
    public static IReadOnlyList<(string Folder, WholeImageManifest Manifest)> Recorded(string runRoot)
    {
        var path = Path.Combine(runRoot, RunLogName);
        if (!File.Exists(path)) return [];
        var found = new List<(string, WholeImageManifest)>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                var entry = JsonSerializer.Deserialize<WholeImageLogLine>(line, JsonOptions);
                if (entry is null) continue;
                var manifestPath = Path.Combine(entry.Out, ManifestName);
                if (!File.Exists(manifestPath)) continue;
                var manifest = JsonSerializer.Deserialize<WholeImageManifest>(File.ReadAllText(manifestPath), JsonOptions);
                if (manifest is not null) found.Add((entry.Out, manifest));
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException) { }
        }
        return found;
    }

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    static readonly JsonSerializerOptions LineOptions = new(JsonOptions) { WriteIndented = false };

    sealed record WholeImageLogLine(string Out, string Method, int Width, int Height, int Count, long Seed, string Written);
}

/// <summary>synthesis.json: what <c>hypha synthesize</c> was asked for and what it took.</summary>
public sealed record WholeImageManifest
{
    public int Format { get; init; } = 1;
    public string Model { get; init; } = "";
    public string Method { get; init; } = "";
    public string Weighting { get; init; } = "";
    public int Width { get; init; }
    public int Height { get; init; }
    public int Count { get; init; }
    public long Seed { get; init; }
    public int Window { get; init; }
    public int Stride { get; init; }
    public int WindowsPerImage { get; init; }
    /// <summary>Passes over the windows per image (denoising steps; 1 for a VAE).</summary>
    public int Steps { get; init; }
    public int Batch { get; init; }
    public string? Sampler { get; init; }
    public int? SampleSteps { get; init; }
    public double? Eta { get; init; }
    public string Device { get; init; } = "";
    public int Threads { get; init; }
    public string? Run { get; init; }
    public IReadOnlyList<string> Files { get; init; } = [];
    public long EstimatedBytes { get; init; }
    /// <summary>Synthesis time, not counting encoding and writing.</summary>
    public double Seconds { get; init; }
    public double SecondsPerMegapixel { get; init; }
    public double WindowsPerSecond { get; init; }
    public string Written { get; init; } = "";
}
