using Hypha.Imaging;

namespace Hypha.Data;

/// <summary>Reads, normalizes and indexes images: the first half of every verb that needs data.</summary>
public static class DatasetBuilder
{
    /// <summary>
    /// Reads every file (each page an image), normalizes, cuts and splits. Bad files are skipped and listed, or with
    /// <see cref="BadImagePolicy.Fail"/> stop everything before any work, naming the file.
    /// </summary>
    /// <param name="split">False skips the train/validation/test split (every kept chunk in Train).</param>
    public static PreparedData Build(DataOptions options, long seed, Action<string>? log = null, bool split = true)
    {
        options.Validate();
        var (files, duplicates) = ImageFiles.ExpandUnique(options.Images, out var ownOutputs);
        foreach (var (folder, kind) in ownOutputs) log?.Invoke($"left out {folder}: {kind}, not microscopy");
        var pages = PageSelection.Parse(options.Pages);
        var (headers, memory, budget) = CheckMemory(files, pages, options);
        var images = new List<NormalizedImage>();
        var skipped = new List<BadImage>();
        foreach (var d in duplicates)
        {
            // Two copies of one picture would put it on both sides of the split: keep one, list the other.
            skipped.Add(new BadImage(d.Path, $"{d.Path}: the same bytes as {d.SameAs} (a copy or hard link); counted once"));
            log?.Invoke($"skipped {skipped[^1].Problem}");
        }
        foreach (var file in files)
        {
            try
            {
                foreach (var raw in ImageReader.Read(file, pages, headers.GetValueOrDefault(file)))
                    images.Add(Normalization.Apply(raw.To(options.Channels), options.Normalize, options.PercentileLow, options.PercentileHigh));
            }
            catch (HyphaException e) when (e.Code == ExitCode.BadInput)
            {
                if (options.OnBadImage == BadImagePolicy.Fail || files.Count == 1) throw;
                skipped.Add(new BadImage(file, e.Message));
                log?.Invoke($"skipped {e.Message}");
            }
        }
        if (images.Count == 0)
            throw new HyphaException(ExitCode.BadInput, $"none of the {files.Count} image file(s) could be read:\n  " +
                string.Join("\n  ", skipped.Select(s => s.Problem)));
        return FromImages(images, options, seed, skipped, split) with
        {
            Memory = (memory, budget),
            Inputs = files.Concat(duplicates.Select(d => d.Path)).Select(Path.GetFullPath).Order(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>Reads every header and refuses, before any pixel is decoded, images whose estimated memory exceeds
    /// <see cref="DataOptions.MemoryBudget"/>. Files whose header is bad are left to the read loop, which skips or refuses them.</summary>
    static (Dictionary<string, ImageHeaderInfo> Headers, ImageMemoryEstimate Estimate, string Budget) CheckMemory(
        IReadOnlyList<string> files, PageSelection pages, DataOptions options)
    {
        var headers = new Dictionary<string, ImageHeaderInfo>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            try { headers[file] = ImageHeader.Inspect(file); }
            catch (HyphaException e) when (e.Code == ExitCode.BadInput) { }
        }
        var estimate = ImageMemory.Estimate(headers.Select(kv => (kv.Key, kv.Value)), pages, options.Channels.Count());
        var (budget, words) = ImageMemoryBudget.Resolve(options.MemoryBudget);
        if (budget is { } limit && estimate.PeakBytes > limit)
        {
            var largest = estimate.Largest is { } l && headers[l].Shapes.MaxBy(s => s.Pixels) is { } shape
                ? $", {Torch.DeviceMemory.Format(estimate.LargestBytes)} more while reading the largest, {l} ({shape.Width} x {shape.Height}{(headers[l].Pages > 1 ? $", {headers[l].Pages} pages" : "")})"
                : "";
            throw new HyphaException(ExitCode.OutOfMemory,
                $"the {headers.Count} image file(s) would take about {Torch.DeviceMemory.Format(estimate.PeakBytes)} of memory " +
                $"({Torch.DeviceMemory.Format(estimate.NormalizedBytes)} normalized{largest}), more than the memory budget of {words} (--memory-budget); " +
                "refused before reading any pixel: tile large images, select fewer --pages, or raise --memory-budget");
        }
        return (headers, estimate, words);
    }

    /// <summary>Cuts and splits images already read and normalized (the second half of <see cref="Build"/>; the
    /// benchmark uses it on a machine without the image codecs).</summary>
    public static PreparedData FromImages(IReadOnlyList<NormalizedImage> images, DataOptions options, long seed,
        IReadOnlyList<BadImage>? skipped = null, bool split = true)
    {
        var index = ChunkIndexBuilder.Build(images, options.Geometry, options.Filter, options.SplitPlan(seed), split);
        return new PreparedData(images, index, skipped ?? [], options.Channels.Count(), options.Chunk);
    }
}
