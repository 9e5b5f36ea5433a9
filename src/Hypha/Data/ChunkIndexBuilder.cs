using Hypha.Imaging;

namespace Hypha.Data;

/// <summary>Cuts the chunk grid over normalized images, applies the mean filter and assigns the split.</summary>
public static class ChunkIndexBuilder
{
    /// <param name="split">False puts every kept chunk in <see cref="ChunkIndex.Train"/> (for reconstructing new images).</param>
    public static ChunkIndex Build(IReadOnlyList<NormalizedImage> images, ChunkGeometry geometry, ChunkFilter filter, SplitPlan plan, bool split = true)
    {
        geometry.Validate();
        filter.Validate();
        plan.Validate();
        var files = images.Select(i => i.Source).Distinct().ToList();
        // Planes of one z-stack given as one file each are near-duplicates: the image split keeps them in one part.
        var stacks = split && plan.PlaneStacks && plan.Mode is SplitMode.Auto or SplitMode.Images ? PlaneStacks.Find(images) : [];
        var units = Units(files, stacks);
        var (mode, reason) = split ? plan.Resolve(files.Count, units.Count) : (SplitMode.Images, "not split: every kept chunk");
        var fileSplit = !split ? files.ToDictionary(f => f, _ => DataSplit.Train)
            : mode == SplitMode.Images ? AssignFiles(units, files.Count, stacks.Count, plan) : null;
        double bandVal = 0, bandTest = 0, bandArea = 0;

        var parts = new[] { new List<ChunkRef>(), new List<ChunkRef>(), new List<ChunkRef>() };
        var unassigned = new List<ChunkRef>();
        var counts = new List<ImageChunkCounts>();
        int size = geometry.Size;

        for (var id = 0; id < images.Count; id++)
        {
            var img = images[id];
            var sums = IntegralImage(img);
            int nx = geometry.CountAlong(img.Width), ny = geometry.CountAlong(img.Height);
            var bands = mode == SplitMode.Regions ? RegionBands.For(img, size, geometry.Stride, plan) : null;
            if (bands is not null)
            {
                double area = (double)img.Width * img.Height;
                (bandVal, bandTest, bandArea) = (bandVal + bands.ValidationShare * area, bandTest + bands.TestShare * area, bandArea + area);
            }
            int dark = 0, bright = 0, boundary = 0;
            var perPart = new int[3];
            double denom = (double)size * size * img.Channels;
            for (var gy = 0; gy < ny; gy++)
            for (var gx = 0; gx < nx; gx++)
            {
                int x = gx * geometry.Stride, y = gy * geometry.Stride;
                var mean = BoxSum(sums, img.Width + 1, x, y, size) / denom;
                if (mean < filter.MinMean) { dark++; continue; }
                if (mean > filter.MaxMean) { bright++; continue; }
                var chunk = new ChunkRef(id, x, y);
                DataSplit? part = mode switch
                {
                    SplitMode.Images => fileSplit![img.Source],
                    SplitMode.Regions => bands!.Assign(x, y, size),
                    _ => null,
                };
                if (mode == SplitMode.Chunks) { unassigned.Add(chunk); continue; }
                if (part is null) { boundary++; continue; }
                parts[(int)part].Add(chunk);
                perPart[(int)part]++;
            }
            counts.Add(new ImageChunkCounts(img.Label, img.Width, img.Height, nx * ny, dark, bright, boundary, perPart[0], perPart[1], perPart[2]));
        }

        var total = parts.Sum(p => p.Count) + unassigned.Count;
        if (total == 0)
            throw new HyphaException(ExitCode.BadInput, NoChunksMessage(counts, geometry, filter));
        if (mode == SplitMode.Chunks) counts = AssignChunks(unassigned, plan, parts, counts);
        string[] names = ["training", "validation", "test"];
        for (var k = 0; k < (split ? 3 : 1); k++)
            if (parts[k].Count == 0)
                throw new HyphaException(ExitCode.BadInput,
                    $"the {mode.ToString().ToLowerInvariant()} split leaves the {names[k]} part empty ({total} chunks kept in all); " +
                    "use more or larger images, a smaller chunk or stride, other fractions, or another --split");
        SplitShares? shares = null;
        if (split)
        {
            double kept = parts.Sum(p => p.Count);
            var (unit, val, test, valAsked, testAsked) = mode switch
            {
                // Shares of source units: a plane stack's files count once.
                SplitMode.Images => ("source units", UnitShare(units, fileSplit!, DataSplit.Validation), UnitShare(units, fileSplit!, DataSplit.Test),
                    plan.ValFraction, plan.TestFraction),
                SplitMode.Regions => ("image length", bandVal / bandArea, bandTest / bandArea, plan.ValFraction, plan.TestFraction),
                _ => ("chunks", parts[1].Count / kept, parts[2].Count / kept,
                      plan.ValCount > 0 ? plan.ValCount / kept : plan.ValFraction, plan.TestCount > 0 ? plan.TestCount / kept : plan.TestFraction),
            };
            shares = new SplitShares(unit, valAsked, testAsked, val, test, parts[0].Count / kept, parts[1].Count / kept, parts[2].Count / kept);
            if (!plan.AllowUneven) RefuseUneven(shares, mode, geometry, units.Count);
        }
        return new ChunkIndex(parts[0], parts[1], parts[2], counts, mode, reason, shares, stacks);
    }

    static double UnitShare(List<IReadOnlyList<string>> units, Dictionary<string, DataSplit> split, DataSplit part) =>
        units.Count(u => split[u[0]] == part) / (double)units.Count;

    /// <summary>Each file alone, except the files of one plane stack, which make one unit; in the order of their first file.</summary>
    static List<IReadOnlyList<string>> Units(List<string> files, IReadOnlyList<PlaneStack> stacks)
    {
        var inStack = stacks.SelectMany(s => s.Files).ToHashSet(StringComparer.Ordinal);
        return files.Where(f => !inStack.Contains(f)).Select(f => (IReadOnlyList<string>)[f])
            .Concat(stacks.Select(s => s.Files)).OrderBy(u => u.Min(StringComparer.Ordinal), StringComparer.Ordinal).ToList();
    }

    /// <summary>Refuses a split whose validation or test part holds more than <see cref="SplitPlan.MaxShareRatio"/> times
    /// its asked share: small images (held-out bands are at least one chunk wide) or few files (a part holds at least one).</summary>
    static void RefuseUneven(SplitShares s, SplitMode mode, ChunkGeometry geometry, int units)
    {
        var over = new List<string>();
        if (s.Validation > SplitPlan.MaxShareRatio * s.ValidationAsked + 1e-9) over.Add($"validation {Pct(s.Validation)} (asked {Pct(s.ValidationAsked)})");
        if (s.Test > SplitPlan.MaxShareRatio * s.TestAsked + 1e-9) over.Add($"test {Pct(s.Test)} (asked {Pct(s.TestAsked)})");
        if (over.Count == 0) return;
        var why = mode switch
        {
            SplitMode.Images => $"each part holds at least one of the {units} source units",
            SplitMode.Regions => $"each held-out band is at least one chunk ({geometry.Size} px) wide",
            _ => "the counts asked for",
        };
        throw new HyphaException(ExitCode.BadInput,
            $"the {mode.ToString().ToLowerInvariant()} split gives {string.Join(" and ", over)} of the {s.Unit}, more than {SplitPlan.MaxShareRatio:0} times the share asked, " +
            $"because {why}; use larger images or a smaller --chunk, more files, --split chunks with --val-count/--test-count, " +
            "or pass --allow-uneven-split to accept these shares");
    }

    static string Pct(double share) => (share * 100).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + "%";

    static string NoChunksMessage(List<ImageChunkCounts> counts, ChunkGeometry g, ChunkFilter f)
    {
        if (counts.All(c => c.Cut == 0))
            return $"no image is at least {g.Size} x {g.Size} pixels, so no chunk can be cut (largest: " +
                   $"{counts.MaxBy(c => c.Width * c.Height)?.Width}x{counts.MaxBy(c => c.Width * c.Height)?.Height}); use a smaller --chunk";
        int dark = counts.Sum(c => c.TooDark), bright = counts.Sum(c => c.TooBright), cut = counts.Sum(c => c.Cut);
        return $"every one of the {cut} chunks was filtered out ({dark} with mean below --min-mean {f.MinMean}, {bright} above --max-mean {f.MaxMean}); " +
               "widen the thresholds or check the normalization";
    }

    /// <summary>Whole units (a file, or the files of a plane stack) to parts, shuffled by the seed. Without stacks the
    /// units are the files in ordinal order, as before stacks were recognised, so a seed gives the same split.</summary>
    static Dictionary<string, DataSplit> AssignFiles(List<IReadOnlyList<string>> units, int files, int stacks, SplitPlan plan)
    {
        if (units.Count < 3)
            throw HyphaException.Config(units.Count == files
                ? $"--split images needs at least 3 source files (got {files}); use --split regions"
                : $"--split images needs at least 3 source units (got {units.Count}: {files} files, {stacks} plane stack(s) counting as one each); use --split regions");
        var shuffled = units.ToArray();
        new Random(SeedFold.ToInt32(plan.Seed)).Shuffle(shuffled);
        int nVal = Math.Max(1, (int)Math.Round(plan.ValFraction * units.Count));
        int nTest = Math.Max(1, (int)Math.Round(plan.TestFraction * units.Count));
        var map = new Dictionary<string, DataSplit>(StringComparer.Ordinal);
        for (var i = 0; i < shuffled.Length; i++)
            foreach (var f in shuffled[i])
                map[f] = i < nTest ? DataSplit.Test : i < nTest + nVal ? DataSplit.Validation : DataSplit.Train;
        return map;
    }

    static List<ImageChunkCounts> AssignChunks(List<ChunkRef> all, SplitPlan plan, List<ChunkRef>[] parts, List<ImageChunkCounts> counts)
    {
        var arr = all.ToArray();
        new Random(SeedFold.ToInt32(plan.Seed)).Shuffle(arr);
        int nTest = plan.TestCount > 0 ? plan.TestCount : (int)Math.Round(plan.TestFraction * arr.Length);
        int nVal = plan.ValCount > 0 ? plan.ValCount : (int)Math.Round(plan.ValFraction * arr.Length);
        if (arr.Length > 0 && nTest + nVal >= arr.Length) // no chunks at all: the caller says why
            throw HyphaException.Config($"--split chunks asks for {nVal} validation and {nTest} test chunks but only {arr.Length} were kept");
        var perImage = counts.Select(_ => new int[3]).ToArray();
        for (var i = 0; i < arr.Length; i++)
        {
            var part = i < nTest ? 2 : i < nTest + nVal ? 1 : 0;
            parts[part].Add(arr[i]);
            perImage[arr[i].Image][part]++;
        }
        // Keep a stable order inside each part (by image, then position) so batches do not depend on the shuffle above.
        foreach (var p in parts) p.Sort((a, b) => (a.Image, a.Y, a.X).CompareTo((b.Image, b.Y, b.X)));
        return counts.Select((c, i) => c with { Train = perImage[i][0], Validation = perImage[i][1], Test = perImage[i][2] }).ToList();
    }

    /// <summary>Summed-area table of the channel-summed image, (W+1) x (H+1), so any chunk mean costs four lookups.</summary>
    static double[] IntegralImage(NormalizedImage img)
    {
        int w = img.Width, h = img.Height, plane = w * h;
        var s = new double[(w + 1) * (h + 1)];
        for (var y = 0; y < h; y++)
        {
            double row = 0;
            for (var x = 0; x < w; x++)
            {
                double v = 0;
                for (var c = 0; c < img.Channels; c++) v += img.Data[c * plane + y * w + x];
                row += v;
                s[(y + 1) * (w + 1) + x + 1] = s[y * (w + 1) + x + 1] + row;
            }
        }
        return s;
    }

    static double BoxSum(double[] s, int stride, int x, int y, int size) =>
        s[(y + size) * stride + x + size] - s[y * stride + x + size] - s[(y + size) * stride + x] + s[y * stride + x];
}
