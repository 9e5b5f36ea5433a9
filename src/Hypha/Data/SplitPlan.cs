namespace Hypha.Data;

/// <summary>The split settings: the mode and how much goes to validation and test.</summary>
/// <param name="Mode">See <see cref="SplitMode"/>; default <see cref="SplitMode.Auto"/>.</param>
/// <param name="ValFraction">Share of files (images), of the longer axis (regions) or of chunks (chunks); default 0.1.</param>
/// <param name="TestFraction">As <paramref name="ValFraction"/>; default 0.1.</param>
/// <param name="ValCount">With <see cref="SplitMode.Chunks"/>: an exact number of validation chunks instead of the fraction (thesis: 1,000); 0 uses the fraction.</param>
/// <param name="TestCount">As <paramref name="ValCount"/> for the test part.</param>
/// <param name="Seed">Seeds the shuffles; the same seed gives the same split.</param>
/// <param name="AllowUneven">Accept a validation or test part over <see cref="MaxShareRatio"/> times its asked share
/// (small images, few files); default false: such a split is refused, saying what was asked and obtained.</param>
/// <param name="PlaneStacks">Recognise plane stacks and keep each in one part of the image split (<see cref="Data.PlaneStacks"/>); default true.</param>
public sealed record SplitPlan(SplitMode Mode, double ValFraction, double TestFraction, int ValCount, int TestCount, long Seed, bool AllowUneven = false,
    bool PlaneStacks = true)
{
    /// <summary>A held-out part may hold up to this many times its asked share (in the split's unit) before the split
    /// is refused: 2.</summary>
    public const double MaxShareRatio = 2;

    /// <summary>The image split needs this many source files so each part gets at least one and training keeps most.</summary>
    public const int MinFilesForImageSplit = 5;

    public void Validate()
    {
        if (!(ValFraction > 0 && ValFraction < 1) || !(TestFraction > 0 && TestFraction < 1) || ValFraction + TestFraction >= 1)
            throw HyphaException.Config($"validation and test fractions must be in (0, 1) and sum below 1 (got {ValFraction} and {TestFraction})");
        if (ValCount < 0 || TestCount < 0) throw HyphaException.Config("validation and test counts cannot be negative");
    }

    /// <summary>The mode actually used for <paramref name="files"/> source files, and why; <paramref name="units"/> is
    /// what the image split divides (files, each plane stack counting as one: <see cref="PlaneStacks"/>), default the files.</summary>
    public (SplitMode Mode, string Reason) Resolve(int files, int units = -1)
    {
        if (units < 0) units = files;
        var what = units == files ? $"{files} source file{(files == 1 ? "" : "s")}" : $"{files} source files in {units} unit{(units == 1 ? "" : "s")} (plane stacks count as one)";
        return Mode switch
        {
            SplitMode.Auto when units >= MinFilesForImageSplit => (SplitMode.Images, $"{what} (>= {MinFilesForImageSplit}): whole files per part"),
            SplitMode.Auto => (SplitMode.Regions, $"only {what} (< {MinFilesForImageSplit}): disjoint bands of each image per part"),
            _ => (Mode, "chosen with --split"),
        };
    }
}
