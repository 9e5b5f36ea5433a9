using Hypha.Data;
using Hypha.Imaging;

namespace Hypha.Tests.Data;

public class ChunkIndexBuilderTests
{
    /// <summary>A W x H image at <paramref name="value"/> with an optional rectangle at another value.</summary>
    static NormalizedImage Image(string name, int w, int h, float value, (int X, int Y, int W, int H, float V)? rect = null)
    {
        var data = Enumerable.Repeat(value, w * h).ToArray();
        if (rect is { } r)
            for (var y = r.Y; y < r.Y + r.H; y++)
            for (var x = r.X; x < r.X + r.W; x++)
                data[y * w + x] = r.V;
        return new NormalizedImage(name, "/data/" + name, 0, w, h, 1, data);
    }

    static readonly SplitPlan Regions = new(SplitMode.Regions, 0.1, 0.1, 0, 0, Seed: 1);

    [Fact]
    public void FilterDropsBrightAndDarkChunksByTheirMean()
    {
        // Left half background (0.95), right half mid-grey (0.5) with a black square.
        var img = Image("a.png", 256, 64, 0.95f, (128, 0, 128, 64, 0.5f));
        for (var y = 0; y < 32; y++) for (var x = 224; x < 256; x++) img.Data[y * 256 + x] = 0f;
        var index = ChunkIndexBuilder.Build([img], new ChunkGeometry(32, 32), new ChunkFilter(0.10, 0.85),
            new SplitPlan(SplitMode.Chunks, 0.1, 0.1, 1, 1, 0));
        var counts = index.PerImage[0];
        Assert.Equal(16, counts.Cut);
        Assert.Equal(8, counts.TooBright);  // the four columns of the left half, two rows
        Assert.Equal(1, counts.TooDark);    // the black square
        Assert.Equal(7, counts.Kept);
        Assert.All(index.Train.Concat(index.Validation).Concat(index.Test), c => Assert.True(c.X >= 128));
    }

    [Fact]
    public void RegionSplitNeverPutsOverlappingChunksInTwoParts()
    {
        var images = new[] { Image("a.png", 700, 300, 0.5f), Image("b.png", 300, 700, 0.5f) };
        var index = ChunkIndexBuilder.Build(images, new ChunkGeometry(64, 16), new ChunkFilter(0, 1), Regions);
        Assert.Equal(SplitMode.Regions, index.SplitMode);
        Assert.NotEmpty(index.Validation);
        Assert.NotEmpty(index.Test);
        var parts = new[] { index.Train, index.Validation, index.Test };
        for (var a = 0; a < 3; a++)
        for (var b = a + 1; b < 3; b++)
            foreach (var p in parts[a])
                Assert.DoesNotContain(parts[b], q => q.Image == p.Image && Math.Abs(q.X - p.X) < 64 && Math.Abs(q.Y - p.Y) < 64);
        Assert.True(index.PerImage.All(c => c.OnBoundary > 0), "chunks straddling band edges are dropped");
    }

    [Fact]
    public void ImageSplitKeepsEachFileInOnePart()
    {
        var images = Enumerable.Range(0, 10).Select(i => Image($"f{i}.png", 128, 128, 0.5f)).ToArray();
        var plan = new SplitPlan(SplitMode.Auto, 0.2, 0.1, 0, 0, Seed: 3);
        var index = ChunkIndexBuilder.Build(images, new ChunkGeometry(64, 32), new ChunkFilter(0, 1), plan);
        Assert.Equal(SplitMode.Images, index.SplitMode);
        var imagesPerPart = new[] { index.Train, index.Validation, index.Test }.Select(p => p.Select(c => c.Image).ToHashSet()).ToArray();
        Assert.Equal(7, imagesPerPart[0].Count);
        Assert.Equal(2, imagesPerPart[1].Count);
        Assert.Single(imagesPerPart[2]);
        Assert.Empty(imagesPerPart[0].Intersect(imagesPerPart[1]));
        Assert.Empty(imagesPerPart[0].Intersect(imagesPerPart[2]));
        Assert.Empty(imagesPerPart[1].Intersect(imagesPerPart[2]));
    }

    [Fact]
    public void AutoSplitUsesRegionsForFewImages()
    {
        var images = new[] { Image("a.png", 700, 300, 0.5f), Image("b.png", 700, 300, 0.5f) };
        var index = ChunkIndexBuilder.Build(images, new ChunkGeometry(64, 16), new ChunkFilter(0, 1), Regions with { Mode = SplitMode.Auto });
        Assert.Equal(SplitMode.Regions, index.SplitMode);
        Assert.Contains("2 source file", index.SplitReason);
    }

    [Fact]
    public void ChunkSplitWithCountsReproducesTheThesisSplitSizes()
    {
        var images = new[] { Image("a.png", 600, 600, 0.5f) };
        var plan = new SplitPlan(SplitMode.Chunks, 0.1, 0.1, ValCount: 100, TestCount: 50, Seed: 0);
        var index = ChunkIndexBuilder.Build(images, new ChunkGeometry(64, 16), new ChunkFilter(0, 1), plan);
        var total = new ChunkGeometry(64, 16).CountIn(600, 600);
        Assert.Equal(100, index.Validation.Count);
        Assert.Equal(50, index.Test.Count);
        Assert.Equal(total - 150, index.Train.Count);
    }

    [Fact]
    public void SplitsAreDeterministicForASeed()
    {
        var images = Enumerable.Range(0, 6).Select(i => Image($"f{i}.png", 128, 128, 0.5f)).ToArray();
        var plan = new SplitPlan(SplitMode.Images, 0.2, 0.2, 0, 0, Seed: 42);
        var a = ChunkIndexBuilder.Build(images, new ChunkGeometry(64, 32), new ChunkFilter(0, 1), plan);
        var b = ChunkIndexBuilder.Build(images, new ChunkGeometry(64, 32), new ChunkFilter(0, 1), plan);
        Assert.Equal(a.Test, b.Test);
        Assert.Equal(a.Validation, b.Validation);
    }

    [Fact]
    public void EverythingFilteredOutIsABadInputErrorThatSaysWhy()
    {
        var e = Assert.Throws<HyphaException>(() => ChunkIndexBuilder.Build([Image("white.png", 300, 300, 0.99f)],
            new ChunkGeometry(64, 16), new ChunkFilter(0.1, 0.85), Regions));
        Assert.Equal(ExitCode.BadInput, e.Code);
        Assert.Contains("filtered out", e.Message);
    }

    [Fact]
    public void ImageSmallerThanAChunkIsExplained()
    {
        var e = Assert.Throws<HyphaException>(() => ChunkIndexBuilder.Build([Image("tiny.png", 50, 40, 0.5f)],
            new ChunkGeometry(64, 16), new ChunkFilter(0, 1), Regions with { Mode = SplitMode.Chunks }));
        Assert.Contains("64 x 64", e.Message);
    }
}
