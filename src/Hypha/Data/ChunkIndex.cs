namespace Hypha.Data;

/// <summary>What happened to one image's chunks, for <c>hypha prepare</c>'s report.</summary>
/// <param name="Label">File and page.</param>
/// <param name="Cut">Positions on the chunk grid.</param>
/// <param name="TooDark">Dropped: mean below the filter's minimum.</param>
/// <param name="TooBright">Dropped: mean above the filter's maximum.</param>
/// <param name="OnBoundary">Dropped: straddles a region boundary of the split.</param>
public sealed record ImageChunkCounts(string Label, int Width, int Height, int Cut, int TooDark, int TooBright, int OnBoundary, int Train, int Validation, int Test)
{
    public int Kept => Train + Validation + Test;
}

/// <summary>
/// The dataset as an index: (image, x, y) per chunk and part. Memory grows with source pixels, not with the
/// number of chunks; chunks are cut when a batch is needed.
/// </summary>
public sealed class ChunkIndex(
    IReadOnlyList<ChunkRef> train, IReadOnlyList<ChunkRef> validation, IReadOnlyList<ChunkRef> test,
    IReadOnlyList<ImageChunkCounts> perImage, SplitMode splitMode, string splitReason)
{
    public IReadOnlyList<ChunkRef> Train { get; } = train;
    public IReadOnlyList<ChunkRef> Validation { get; } = validation;
    public IReadOnlyList<ChunkRef> Test { get; } = test;
    public IReadOnlyList<ImageChunkCounts> PerImage { get; } = perImage;

    /// <summary>The split mode used (never <see cref="SplitMode.Auto"/>) and why it was chosen.</summary>
    public SplitMode SplitMode { get; } = splitMode;
    public string SplitReason { get; } = splitReason;

    public IReadOnlyList<ChunkRef> Part(DataSplit split) => split switch
    {
        DataSplit.Train => Train,
        DataSplit.Validation => Validation,
        _ => Test,
    };
}
