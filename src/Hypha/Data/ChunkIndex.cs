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
    IReadOnlyList<ImageChunkCounts> perImage, SplitMode splitMode, string splitReason,
    SplitShares? shares = null, IReadOnlyList<PlaneStack>? stacks = null)
{
    /// <summary>The validation and test shares asked for and obtained; null when the chunks were not split.</summary>
    public SplitShares? Shares { get; } = shares;

    /// <summary>Files recognised as planes of one stack and kept in one part (<see cref="PlaneStacks"/>).</summary>
    public IReadOnlyList<PlaneStack> Stacks { get; } = stacks ?? [];

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

/// <summary>
/// The held-out shares asked for and obtained, in the unit the split divides (<see cref="Unit"/>: <c>source units</c>
/// for the image split, files with a plane stack counting as one; <c>image length</c> for the region split, weighted by
/// image area; <c>chunks</c> for the chunk split), beside each part's share of the kept chunks.
/// </summary>
public sealed record SplitShares(string Unit, double ValidationAsked, double TestAsked, double Validation, double Test,
    double TrainChunks, double ValidationChunks, double TestChunks)
{
    /// <summary>"validation 33.3% (asked 10%), test 33.3% (asked 10%) of image length; of the kept chunks: ...".</summary>
    public string Describe() =>
        $"validation {P(Validation)} (asked {P(ValidationAsked)}), test {P(Test)} (asked {P(TestAsked)}) of the {Unit}; " +
        $"of the kept chunks: train {P(TrainChunks)}, validation {P(ValidationChunks)}, test {P(TestChunks)}";

    static string P(double share) => (share * 100).ToString(share * 100 >= 10 || share == 0 ? "0.#" : "0.##", System.Globalization.CultureInfo.InvariantCulture) + "%";
}
