using static TorchSharp.torch;

namespace Hypha.Evaluation;

/// <summary>
/// swd: ProGAN's sliced Wasserstein distance (Karras et al. 2018) on Laplacian-pyramid patches, x 1e3.
/// Per level: 128 random 7x7 patches per image, normalized per channel (each set separately, as ProGAN), SWD with
/// 4 x 128 random directions; Value is the mean over levels, Values hold each level as "level_&lt;side&gt;".
/// Levels: the pyramid sides from the image side down, halving, while the side is at least 8, at most 4 levels
/// (64 px: 64/32/16/8, 56 px: 56/28/14; ProGAN stops at 16 for 1024 px images). Samples are compared with the
/// real reference half (test A); floor: test B against test A. When the sets differ in size, descriptors of the
/// larger set are randomly subsampled to the smaller count. Lower is better.
/// </summary>
public sealed class SwdMetric : IMetric
{
    /// <summary>Registry key.</summary>
    public const string Key = "swd";
    /// <summary>Patches per image and level (default 128).</summary>
    public int PatchesPerImage { get; init; } = 128;
    /// <summary>Patch side (default 7).</summary>
    public int PatchSize { get; init; } = 7;
    /// <summary>Most pyramid levels (default 4).</summary>
    public int MaxLevels { get; init; } = 4;
    /// <summary>Smallest level side (default 8).</summary>
    public int MinLevelSide { get; init; } = 8;
    /// <summary>Direction repeats (default 4).</summary>
    public int DirRepeats { get; init; } = 4;
    /// <summary>Directions per repeat (default 128).</summary>
    public int DirsPerRepeat { get; init; } = 128;

    public string Name => Key;
    public int Version => 1;

    public string? MissingInputs(EvaluationInputs inputs) =>
        inputs.Samples is null ? "no samples"
        : LevelSides((int)Math.Min(inputs.TestRealA.shape[2], inputs.TestRealA.shape[3])).Count == 0 ? $"images smaller than {Math.Max(MinLevelSide, PatchSize)} px"
        : null;

    /// <summary>Level sides for images of side <paramref name="side"/>.</summary>
    public IReadOnlyList<int> LevelSides(int side)
    {
        var sides = new List<int>();
        for (var s = side; s >= MinLevelSide && s >= PatchSize && sides.Count < MaxLevels; s /= 2) sides.Add(s);
        return sides;
    }

    /// <summary>SWD x 1e3 per level between image sets a and b (both [N, C, H, W]).</summary>
    public double[] PerLevel(Tensor a, Tensor b, long seed)
    {
        using var scope = NewDisposeScope();
        var levels = LevelSides((int)Math.Min(a.shape[2], a.shape[3])).Count;
        var pa = LaplacianPyramid.Build(a, levels);
        var pb = LaplacianPyramid.Build(b, levels);
        var result = new double[levels];
        for (var l = 0; l < levels; l++)
        {
            using var inner = NewDisposeScope();
            // The same seed for both sets: equal sets of equal size get identical patches (distance exactly 0).
            using var ga = Seeds.Generator(seed, 0x5D00 + l);
            using var gb = Seeds.Generator(seed, 0x5D00 + l);
            var da = SlicedWasserstein.Descriptors(pa[l], PatchesPerImage, PatchSize, ga);
            var db = SlicedWasserstein.Descriptors(pb[l], PatchesPerImage, PatchSize, gb);
            using var gs = Seeds.Generator(seed, 0x5E00 + l);
            var m = Math.Min(da.shape[0], db.shape[0]);
            if (da.shape[0] > m) da = da.index_select(0, randperm(da.shape[0], generator: gs)[..(int)m]);
            if (db.shape[0] > m) db = db.index_select(0, randperm(db.shape[0], generator: gs)[..(int)m]);
            using var gd = Seeds.Generator(seed, 0x5F00 + l);
            result[l] = 1e3 * SlicedWasserstein.Distance(da, db, gd, DirRepeats, DirsPerRepeat);
        }
        return result;
    }

    public MetricResult Compute(EvaluationInputs inputs)
    {
        var sides = LevelSides((int)Math.Min(inputs.TestRealA.shape[2], inputs.TestRealA.shape[3]));
        var value = PerLevel(inputs.TestRealA, inputs.Samples!, inputs.Seed);
        var floor = PerLevel(inputs.TestRealA, inputs.TestRealB, inputs.Seed);
        Dictionary<string, double> Named(double[] v) => sides.Select((s, i) => (s, i)).ToDictionary(p => $"level_{p.s}", p => v[p.i]);
        return new MetricResult(Key, Version, value.Average(), floor.Average(), false, Named(value), Named(floor),
            new Dictionary<string, int>
            {
                ["real"] = inputs.Count(ImageSet.TestRealA), ["samples"] = inputs.Count(ImageSet.Samples),
                ["floor_real"] = inputs.Count(ImageSet.TestRealA), ["floor_samples"] = inputs.Count(ImageSet.TestRealB),
            },
            new Dictionary<string, double>
            {
                ["levels"] = sides.Count, ["patches_per_image"] = PatchesPerImage, ["patch_size"] = PatchSize,
                ["dir_repeats"] = DirRepeats, ["dirs_per_repeat"] = DirsPerRepeat, ["scale"] = 1e3,
            }, inputs.Seed);
    }
}
