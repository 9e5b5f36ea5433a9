using CsCheck;
using Hypha.Data;
using Hypha.Imaging;
using Hypha.Training;

namespace Hypha.Tests.Faults;

/// <summary>Property-based tests (CsCheck) of the chunk index arithmetic, the split and the normalizations.</summary>
public sealed class PropertyTests
{
    const long Iterations = 300;

    [Fact]
    public void Chunks_along_an_axis_follow_floor_of_L_minus_C_over_S_plus_1()
    {
        Gen.Select(Gen.Int[0, 5000], Gen.Int[1, 512], Gen.Int[1, 512]).Where((_, c, s) => s <= c).Sample((length, size, stride) =>
        {
            var g = new ChunkGeometry(size, stride);
            var brute = 0;
            for (var x = 0; x + size <= length; x += stride) brute++;
            var expected = length < size ? 0 : (length - size) / stride + 1;
            Assert.Equal(expected, g.CountAlong(length));
            Assert.Equal(brute, g.CountAlong(length));
        }, iter: 2000, threads: 1);
    }

    /// <summary>A random small dataset: 1-6 images with random sizes and random (smooth or noisy) content in [0, 1].</summary>
    static readonly Gen<NormalizedImage[]> Images =
        Gen.Select(Gen.Int[1, 6], Gen.Int[0, int.MaxValue]).Select((count, seed) =>
        {
            var r = new Random(seed);
            return Enumerable.Range(0, count).Select(i =>
            {
                int w = r.Next(1, 90), h = r.Next(1, 90);
                var data = new float[w * h];
                var smooth = r.Next(2) == 0;
                for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                    data[y * w + x] = smooth ? (float)(0.5 + 0.5 * Math.Sin(x * 0.11 + y * 0.07 + i)) : r.NextSingle();
                return new NormalizedImage($"img{i}.png", $"/data/img{i}.png", 0, w, h, 1, data);
            }).ToArray();
        });

    static readonly Gen<(ChunkGeometry Geometry, ChunkFilter Filter, SplitPlan Plan)> Settings =
        Gen.Select(Gen.Int[1, 24], Gen.Int[1, 24], Gen.Double[0, 1], Gen.Double[0, 1], Gen.Int[0, 2], Gen.Int[0, 1000], Gen.Double[0.05, 0.3], Gen.Double[0.05, 0.3])
            .Select((size, stride, a, b, mode, seed, val, test) => (
                new ChunkGeometry(size, Math.Min(stride, size)),
                new ChunkFilter(Math.Min(a, b) * 0.5, Math.Max(a, b) * 0.5 + 0.5),
                new SplitPlan(mode switch { 0 => SplitMode.Images, 1 => SplitMode.Regions, _ => SplitMode.Chunks }, val, test, 0, 0, seed, AllowUneven: true)));

    static double Mean(NormalizedImage img, ChunkRef c, int size)
    {
        double sum = 0;
        for (var y = c.Y; y < c.Y + size; y++)
        for (var x = c.X; x < c.X + size; x++)
            sum += img.Data[y * img.Width + x];
        return sum / (size * size);
    }

    [Fact]
    public void Every_kept_chunk_lies_inside_its_image_and_no_image_or_region_is_in_two_parts()
    {
        var built = 0;
        Gen.Select(Images, Settings).Sample((images, settings) =>
        {
            var (g, f, plan) = settings;
            ChunkIndex index;
            try { index = ChunkIndexBuilder.Build(images, g, f, plan); }
            catch (HyphaException e) when (e.Code is ExitCode.BadInput or ExitCode.InvalidConfig)
            {
                return; // too small for this split, or every chunk filtered out: a clear error is the right answer
            }
            built++;
            var parts = new[] { index.Train, index.Validation, index.Test };
            var all = parts.SelectMany((p, k) => p.Select(c => (Chunk: c, Part: k))).ToList();

            // No chunk in two parts; every chunk on the grid, inside its image, within the filter.
            Assert.Equal(all.Count, all.Select(a => a.Chunk).Distinct().Count());
            foreach (var (c, _) in all)
            {
                var img = images[c.Image];
                Assert.True(c.X >= 0 && c.Y >= 0 && c.X + g.Size <= img.Width && c.Y + g.Size <= img.Height, $"{c} outside {img.Width}x{img.Height}");
                Assert.Equal(0, c.X % g.Stride);
                Assert.Equal(0, c.Y % g.Stride);
                var mean = Mean(img, c, g.Size);
                Assert.InRange(mean, f.MinMean - 1e-6, f.MaxMean + 1e-6);
            }

            // Counts: cut = floor((W-C)/S+1) * floor((H-C)/S+1) and every cut chunk is accounted for once.
            for (var i = 0; i < images.Length; i++)
            {
                var n = index.PerImage[i];
                Assert.Equal(g.CountIn(images[i].Width, images[i].Height), n.Cut);
                Assert.Equal(n.Cut, n.TooDark + n.TooBright + n.OnBoundary + n.Train + n.Validation + n.Test);
                for (var k = 0; k < 3; k++)
                    Assert.Equal(new[] { n.Train, n.Validation, n.Test }[k], parts[k].Count(c => c.Image == i));
            }

            if (index.SplitMode == SplitMode.Images)
                // Each source file in exactly one part.
                foreach (var byImage in all.GroupBy(a => images[a.Chunk.Image].Source))
                    Assert.Single(byImage.Select(a => a.Part).Distinct());
            if (index.SplitMode == SplitMode.Regions)
                // Chunks of different parts never share a pixel: paint each part's pixels and look for a second owner.
                foreach (var byImage in all.GroupBy(a => a.Chunk.Image))
                {
                    var img = images[byImage.Key];
                    var owner = new int[img.Width * img.Height];
                    foreach (var (c, part) in byImage)
                        for (var y = c.Y; y < c.Y + g.Size; y++)
                        for (var x = c.X; x < c.X + g.Size; x++)
                        {
                            ref var o = ref owner[y * img.Width + x];
                            Assert.True(o == 0 || o == part + 1, $"pixel ({x}, {y}) of image {byImage.Key} is in parts {o - 1} and {part}");
                            o = part + 1;
                        }
                }
        }, iter: Iterations, threads: 1);
        Assert.True(built > Iterations / 10, $"only {built} of {Iterations} samples built an index");
    }

    static readonly Gen<float[]> Pixels = Gen.Float[-1e4f, 1e4f].Array[2, 400];

    [Fact]
    public void Standardization_maps_into_0_1_keeps_order_and_ignores_scale_and_offset()
    {
        Gen.Select(Pixels, Gen.Float[0.01f, 100f], Gen.Float[-1000f, 1000f]).Sample((px, scale, offset) =>
        {
            var raw = new RawImage("/data/x.tif", 0, px.Length, 1, 1, 32, px);
            if (px.Distinct().Count() == 1)
            {
                var e = Assert.Throws<HyphaException>(() => Normalization.Standardize(raw));
                Assert.Equal(ExitCode.BadInput, e.Code);
                return;
            }
            var z = Normalization.Standardize(raw);
            Assert.All(z, v => Assert.InRange(v, 0f, 1f));
            var order = Enumerable.Range(0, px.Length).OrderBy(i => px[i]).ToArray();
            for (var k = 1; k < order.Length; k++) Assert.True(z[order[k]] >= z[order[k - 1]] - 1e-6f);
            var moved = Normalization.Standardize(raw with { Pixels = px.Select(v => v * scale + offset).ToArray() });
            for (var i = 0; i < z.Length; i++) Assert.Equal(z[i], moved[i], 2e-3f);
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void Constant_images_are_refused_by_both_normalizations()
    {
        Gen.Select(Gen.Float[-1e6f, 1e6f], Gen.Int[1, 300]).Sample((v, n) =>
        {
            var raw = new RawImage("/data/c.png", 0, n, 1, 1, 8, Enumerable.Repeat(v, n).ToArray());
            Assert.Equal(ExitCode.BadInput, Assert.Throws<HyphaException>(() => Normalization.Standardize(raw)).Code);
            Assert.Equal(ExitCode.BadInput, Assert.Throws<HyphaException>(() => Normalization.Percentile(raw, 1, 99.8)).Code);
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void Percentile_normalization_maps_into_0_1_and_keeps_order()
    {
        Gen.Select(Pixels, Gen.Double[0, 40], Gen.Double[60, 100]).Sample((px, lo, hi) =>
        {
            var raw = new RawImage("/data/x.tif", 0, px.Length, 1, 1, 32, px);
            float[] z;
            try { z = Normalization.Percentile(raw, lo, hi); }
            catch (HyphaException e) when (e.Code == ExitCode.BadInput) { return; } // no contrast between the percentiles
            Assert.All(z, v => Assert.InRange(v, 0f, 1f));
            var order = Enumerable.Range(0, px.Length).OrderBy(i => px[i]).ToArray();
            for (var k = 1; k < order.Length; k++) Assert.True(z[order[k]] >= z[order[k - 1]]);
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void Epoch_order_is_a_permutation_fixed_by_seed_and_epoch()
    {
        Gen.Select(Gen.Int[1, 500], Gen.Int[0, 600], Gen.Int[0, 1000], Gen.Int[0, 100]).Sample((count, epochSize, seed, epoch) =>
        {
            var order = EpochOrder.For(count, epochSize, seed, epoch);
            Assert.Equal(epochSize > 0 && epochSize < count ? epochSize : count, order.Length);
            Assert.Equal(order.Length, order.Distinct().Count());
            Assert.All(order, i => Assert.InRange(i, 0, count - 1));
            Assert.Equal(order, EpochOrder.For(count, epochSize, seed, epoch));
        }, iter: Iterations, threads: 1);
    }
}
