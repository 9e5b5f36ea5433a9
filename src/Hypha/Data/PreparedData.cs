using Hypha.Imaging;

namespace Hypha.Data;

/// <summary>A file that could not be used, and why.</summary>
public sealed record BadImage(string Path, string Problem);

/// <summary>Normalized images in memory plus the chunk index over them: everything training needs from disk.</summary>
public sealed record PreparedData(IReadOnlyList<NormalizedImage> Images, ChunkIndex Index, IReadOnlyList<BadImage> Skipped, int Channels, int ChunkSize)
{
    /// <summary>Every file the inputs listed (absolute paths; byte-identical copies and unreadable files too), as a run's
    /// <see cref="Runs.InputManifest"/> records them; empty when the images were not read by <see cref="DatasetBuilder.Build"/>.</summary>
    public IReadOnlyList<string> Inputs { get; init; } = [];

    /// <summary>Bytes the normalized images take in memory (float32).</summary>
    public long NormalizedBytes => Images.Sum(i => i.Data.LongLength * sizeof(float));

    /// <summary>The estimate made from the headers before reading, and the budget it was checked against (in words);
    /// null when the images were not read by <see cref="DatasetBuilder.Build"/>.</summary>
    public (ImageMemoryEstimate Estimate, string Budget)? Memory { get; init; }

    /// <summary>The same images with only <paramref name="part"/>'s chunks, as the "all chunks" list that writers such as
    /// <see cref="Sampling.ReconstructionWriter"/> walk (they read <see cref="ChunkIndex.Train"/>).</summary>
    public PreparedData Only(DataSplit part) => this with
    {
        Index = new ChunkIndex(Index.Part(part), [], [], Index.PerImage, Index.SplitMode, Index.SplitReason),
    };
}
