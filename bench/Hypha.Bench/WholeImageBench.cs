using System.Globalization;
using System.Text.Json;
using Hypha.Data;
using Hypha.Imaging;
using Hypha.Reporting;
using Hypha.Runs;
using Hypha.Sampling;
using static TorchSharp.torch;

namespace Hypha.Bench;

/// <summary>
/// Measurements of whole images for docs/whole-images.md (issue 13), driven by bench/whole/run.sh:
/// <c>whole real --run RUN --size WxH --count N --out DIR</c>: crops of the run's sources, normalized as it normalizes them, as whole_NNNNNN.png;
/// <c>whole crops --in DIR --count N --chunk C --out DIR</c>: seeded random C x C crops of a folder's whole_*.png;
/// <c>whole seams --in DIR --window C --stride S</c>: one JSON line, the mean gradient magnitude across window borders and elsewhere;
/// <c>whole figure --run RUN --out PNG [--side 512] [--shown 2] [--crop N] DIR...</c>: real crops above each folder's images, all at the same scale.
/// </summary>
public static class WholeImageBench
{
    public static void Run(string[] args)
    {
        var verb = args[0];
        var map = new Dictionary<string, string>();
        var rest = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length) map[args[i][2..]] = args[++i];
            else rest.Add(args[i]);
        }
        string S(string k) => map.TryGetValue(k, out var v) ? v : throw new ArgumentException($"--{k} is required");
        int I(string k, int d) => map.TryGetValue(k, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : d;
        switch (verb)
        {
            case "real": Real(S("run"), S("size"), I("count", 4), S("out"), I("seed", 0)); break;
            case "crops": Crops(S("in"), I("count", 128), I("chunk", 64), S("out"), I("seed", 0)); break;
            case "seams": Seams(S("in"), I("window", 64), I("stride", 32)); break;
            case "figure": Figure(S("run"), S("out"), rest, I("side", 512), I("shown", 2), I("crop", 0)); break;
            default: throw new ArgumentException($"unknown verb {verb}");
        }
    }

    static IReadOnlyList<NormalizedImage> Sources(string run)
    {
        var config = RunFolder.Open(run).ReadConfig();
        return DatasetBuilder.Build(config.Data, config.Train.Seed, split: false).Images;
    }

    /// <summary>Seeded random crops of the sources, as large as a synthetic image: "real whole images" of that size.</summary>
    static void Real(string run, string size, int count, string outDir, int seed)
    {
        var parts = size.Split('x');
        int w = int.Parse(parts[0], CultureInfo.InvariantCulture), h = int.Parse(parts[1], CultureInfo.InvariantCulture);
        var sources = Sources(run);
        Directory.CreateDirectory(outDir);
        var rng = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            var s = sources[i % sources.Count];
            int x = rng.Next(s.Width - w + 1), y = rng.Next(s.Height - h + 1);
            var crop = tensor(s.Data).view(s.Channels, s.Height, s.Width).narrow(1, y, h).narrow(2, x, w);
            AtomicFile.WriteAllBytes(Path.Combine(outDir, WholeImageWriter.FileName(i, ImageFormat.Png8)), ImageEncoding.Encode(crop, ImageFormat.Png8));
        }
        Console.WriteLine(JsonSerializer.Serialize(new { real = outDir, count, width = w, height = h, sources = sources.Select(s => s.Label) }));
    }

    static List<Tensor> Wholes(string dir) => Directory.GetFiles(dir, "whole_*.png").Order(StringComparer.Ordinal).Select(f =>
    {
        var image = ImageReader.Read(f)[0];
        return tensor(image.Pixels).view(image.Channels, image.Height, image.Width) / 255f;
    }).ToList();

    /// <summary>Random chunk-size crops, spread evenly over the folder's images, for hypha evaluate --samples.</summary>
    static void Crops(string inDir, int count, int chunk, string outDir, int seed)
    {
        var images = Wholes(inDir);
        Directory.CreateDirectory(outDir);
        var rng = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var t = images[i % images.Count];
            int x = rng.Next((int)t.shape[2] - chunk + 1), y = rng.Next((int)t.shape[1] - chunk + 1);
            using var crop = t.narrow(1, y, chunk).narrow(2, x, chunk);
            AtomicFile.WriteAllBytes(Path.Combine(outDir, $"crop_{i:D6}.png"), ImageEncoding.Encode(crop, ImageFormat.Png8));
        }
        Console.WriteLine(JsonSerializer.Serialize(new { crops = outDir, count, chunk, from = images.Count }));
    }

    /// <summary>
    /// Mean absolute difference between neighbouring pixels across the window plan's borders (between column b - 1 and
    /// b for each border column b, and the same for rows) and across every other pair of neighbours, and their ratio:
    /// a seam shows as a ratio above 1 (a step at the border); blending that smooths across borders shows as below 1.
    /// </summary>
    static void Seams(string inDir, int window, int stride)
    {
        var ratios = new List<double>();
        var rows = new List<object>();
        foreach (var t in Wholes(inDir))
        {
            using var scope = NewDisposeScope();
            int h = (int)t.shape[1], w = (int)t.shape[2];
            var plan = WindowPlan.Create(w, h, window, stride);
            var dx = (t.narrow(2, 1, w - 1) - t.narrow(2, 0, w - 1)).abs().mean([0, 1]); // [w - 1]: column pair (x - 1, x) at index x - 1
            var dy = (t.narrow(1, 1, h - 1) - t.narrow(1, 0, h - 1)).abs().mean([0, 2]); // [h - 1]
            var colMask = zeros(w - 1, ScalarType.Bool);
            foreach (var b in plan.BorderColumns) colMask[b - 1] = true;
            var rowMask = zeros(h - 1, ScalarType.Bool);
            foreach (var b in plan.BorderRows) rowMask[b - 1] = true;
            double border = (dx.masked_select(colMask).sum().item<float>() + dy.masked_select(rowMask).sum().item<float>()) /
                            (plan.BorderColumns.Count + plan.BorderRows.Count);
            var interiorCount = (w - 1 - plan.BorderColumns.Count) + (h - 1 - plan.BorderRows.Count);
            double interior = (dx.masked_select(colMask.logical_not()).sum().item<float>() + dy.masked_select(rowMask.logical_not()).sum().item<float>()) / interiorCount;
            ratios.Add(border / interior);
            rows.Add(new { border = Math.Round(border, 5), interior = Math.Round(interior, 5), ratio = Math.Round(border / interior, 4) });
        }
        var mean = ratios.Average();
        var sd = ratios.Count > 1 ? Math.Sqrt(ratios.Sum(r => (r - mean) * (r - mean)) / (ratios.Count - 1)) : 0;
        Console.WriteLine(JsonSerializer.Serialize(new { folder = inDir, window, stride, images = ratios.Count, ratio_mean = Math.Round(mean, 4), ratio_sd = Math.Round(sd, 4), per_image = rows }));
    }

    /// <summary>The report's composition: real crops in the top row, then each folder's first images in a row of its own, all at one scale.</summary>
    static void Figure(string run, string outPath, List<string> folders, int side, int shown, int crop)
    {
        var sources = Sources(run);
        using var scope = NewDisposeScope();
        // --crop N: each image's top-left N x N only (a detail at full resolution; the real crops follow the size).
        var rowsOfImages = folders.Select(f => Wholes(f).Take(shown).Select(t => crop > 0 ? t.narrow(1, 0, crop).narrow(2, 0, crop) : t).ToList()).ToList();
        var grids = rowsOfImages.Select((imgs, i) => i == 0 ? WholeImagesSection.Compose(sources, imgs, side) : WholeImagesSection.Compose([], imgs, side)).ToList();
        // Real crops come with the first folder; the rest are the folders' rows under them.
        var width = grids.Max(g => g.shape[2]);
        var padded = grids.Select(g => nn.functional.pad(g, [0, width - g.shape[2], 0, 0], value: 1.0)).ToList();
        var figure = cat(padded, 1);
        AtomicFile.WriteAllBytes(outPath, ImageEncoding.Encode(figure, ImageFormat.Png8));
        Console.WriteLine(JsonSerializer.Serialize(new { figure = outPath, rows = 1 + folders.Count, shown }));
    }
}
