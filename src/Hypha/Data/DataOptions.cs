using Hypha.Imaging;

namespace Hypha.Data;

/// <summary>What to do when one of several input images cannot be read.</summary>
public enum BadImagePolicy
{
    /// <summary>Skip it, list it in the console and in dataset.json, and go on (default: a stray broken file in a microscope folder should not cost a night's run).</summary>
    Skip,
    /// <summary>Stop before any work if any image is bad.</summary>
    Fail,
}

/// <summary>Everything that turns image files into a chunk dataset. Defaults are the thesis's (section 3.2).</summary>
public sealed record DataOptions
{
    /// <summary>Folders (searched recursively), files or globs.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];
    /// <summary>Chunk side in pixels; default 224.</summary>
    public int Chunk { get; init; } = 224;
    /// <summary>Distance between chunk origins; default 16.</summary>
    public int Stride { get; init; } = 16;
    /// <summary>Drop chunks with a mean below this (black); default 0.10.</summary>
    public double MinMean { get; init; } = 0.10;
    /// <summary>Drop chunks with a mean above this (background); default 0.85.</summary>
    public double MaxMean { get; init; } = 0.85;
    /// <summary>Default <see cref="NormalizeMode.Standardize"/>, as the thesis.</summary>
    public NormalizeMode Normalize { get; init; } = NormalizeMode.Standardize;
    /// <summary>Lower percentile for <see cref="NormalizeMode.Percentile"/>; default 1.</summary>
    public double PercentileLow { get; init; } = 1.0;
    /// <summary>Upper percentile for <see cref="NormalizeMode.Percentile"/>; default 99.8.</summary>
    public double PercentileHigh { get; init; } = 99.8;
    /// <summary>Default <see cref="ChannelMode.Gray"/>, as the thesis.</summary>
    public ChannelMode Channels { get; init; } = ChannelMode.Gray;
    /// <summary>Pages or focal planes of multi-page files: "all" (default) or e.g. "0,2,5-7".</summary>
    public string Pages { get; init; } = "all";
    /// <summary>Default <see cref="SplitMode.Auto"/>.</summary>
    public SplitMode Split { get; init; } = SplitMode.Auto;
    public double ValFraction { get; init; } = 0.1;
    public double TestFraction { get; init; } = 0.1;
    /// <summary>Exact validation chunks for <see cref="SplitMode.Chunks"/> (thesis: 1,000); 0 uses the fraction.</summary>
    public int ValCount { get; init; }
    /// <summary>Exact test chunks for <see cref="SplitMode.Chunks"/> (thesis: 1,000); 0 uses the fraction.</summary>
    public int TestCount { get; init; }
    /// <summary>Default <see cref="BadImagePolicy.Skip"/>.</summary>
    public BadImagePolicy OnBadImage { get; init; } = BadImagePolicy.Skip;
    /// <summary>Accept a validation or test part over twice its asked share (<see cref="Data.SplitPlan.AllowUneven"/>);
    /// default false.</summary>
    public bool AllowUnevenSplit { get; init; }
    /// <summary>Keep the planes of a z-stack given as one file per plane in one part of the image split
    /// (<see cref="Data.PlaneStacks"/>); default true. Configs of runs made before stacks were recognised (format 2 and
    /// older) read as false, so those runs keep the split they were trained with.</summary>
    public bool PlaneStacks { get; init; } = true;
    /// <summary>Memory the images may take (<see cref="ImageMemoryBudget"/>): a share of physical memory, a size such as
    /// <c>8G</c>, or <c>none</c>; default <c>50%</c>. Images over it are refused before any pixel is read.</summary>
    public string MemoryBudget { get; init; } = ImageMemoryBudget.Default;

    // Derived views of the fields above: kept out of config.json so each setting is written once.
    [System.Text.Json.Serialization.JsonIgnore]
    public ChunkGeometry Geometry => new(Chunk, Stride);
    [System.Text.Json.Serialization.JsonIgnore]
    public ChunkFilter Filter => new(MinMean, MaxMean);
    public SplitPlan SplitPlan(long seed) => new(Split, ValFraction, TestFraction, ValCount, TestCount, seed, AllowUnevenSplit, PlaneStacks);

    /// <summary>The same options with every <see cref="Images"/> entry (folders, files, globs) made absolute against the
    /// working directory, so that a run folder's config.json reads the same images from any working directory.</summary>
    public DataOptions WithAbsoluteImages() => this with { Images = Images.Select(Absolute).ToList() };

    /// <summary>An <c>--images</c> entry made absolute against the working directory (blank entries are left for the error they get).</summary>
    public static string Absolute(string image) => string.IsNullOrWhiteSpace(image) ? image : Path.GetFullPath(image);

    /// <summary>Checks everything that can be checked without reading images.</summary>
    public void Validate()
    {
        Geometry.Validate();
        Filter.Validate();
        SplitPlan(0).Validate();
        PageSelection.Parse(Pages);
        ImageMemoryBudget.Resolve(MemoryBudget);
        if (Normalize == NormalizeMode.Percentile && !(PercentileLow >= 0 && PercentileLow < PercentileHigh && PercentileHigh <= 100))
            throw HyphaException.Config($"percentiles must satisfy 0 <= low < high <= 100 (got {PercentileLow} and {PercentileHigh})");
    }
}
