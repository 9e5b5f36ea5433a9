using System.Globalization;
using Hypha.Imaging;
using Hypha.Sampling;
using Hypha.Tests.Faults;
using Hypha.Tests.Imaging;

namespace Hypha.Tests.Sampling;

/// <summary>Issue 16: <c>--format tiff-stack</c> for sample and reconstruct, read back with LibTiff.NET and opened in ImageJ.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class StackOutputTests(SmallRunFixture small) : IClassFixture<SmallRunFixture>, IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static void Ok(params string[] args)
    {
        var r = Faults.Cli.Run(args);
        Assert.True(r.Code == 0, r.ToString());
    }

    [Fact]
    public void A_sample_stack_holds_the_png_samples_values_slice_by_slice_and_the_manifest_names_each_page()
    {
        var png = _tmp.Path("png");
        var stack = _tmp.Path("stack");
        Ok("sample", "--run", small.Run, "--out", png, "--count", "6", "--seed", "2", "--batch", "4", "--device", "cpu");
        Ok("sample", "--run", small.Run, "--out", stack, "--count", "6", "--seed", "2", "--batch", "4", "--device", "cpu", "--format", "tiff_stack8");
        Assert.Equal(["grid.png", "manifest.csv", "samples.tif"], Faults.TempDir.FilesUnder(stack));
        var pages = TiffStackTests.ReadPages(Path.Combine(stack, "samples.tif"));
        Assert.Equal(6, pages.Count);
        Assert.Equal("ImageJ=1.11a\nimages=6\nslices=6\nloop=false\n", pages[0].Description);
        var rows = Manifest.Read(Path.Combine(stack, "manifest.csv"));
        Assert.Equal(Enumerable.Range(0, 6).Select(i => ("samples.tif", (int?)i, i)), rows.Select(r => (r.Path, r.Page, r.Index)));
        var read = ImageReader.Read(Path.Combine(stack, "samples.tif"));
        for (var i = 0; i < 6; i++)
            Assert.Equal(ImageReader.Read(Path.Combine(png, $"sample_{i:D6}.png"))[0].Pixels, read[i].Pixels);
        Assert.Equal(File.ReadAllBytes(Path.Combine(png, "grid.png")), File.ReadAllBytes(Path.Combine(stack, "grid.png")));
    }

    [Fact]
    public void Reconstruct_writes_paired_stacks_whose_slice_i_is_row_i_of_chunks_csv()
    {
        var files = _tmp.Path("files");
        var stacks = _tmp.Path("stacks");
        Ok("reconstruct", "--run", small.Run, "--out", files, "--count", "9", "--format", "tiff16", "--device", "cpu");
        Ok("reconstruct", "--run", small.Run, "--out", stacks, "--count", "9", "--format", "tiff-stack", "--device", "cpu");
        Assert.Equal(["chunks.csv", "grid_000.png", "originals.tif", "reconstructions.tif"], Faults.TempDir.FilesUnder(stacks));
        Assert.Equal(File.ReadAllText(Path.Combine(files, "chunks.csv")), File.ReadAllText(Path.Combine(stacks, "chunks.csv")));
        foreach (var (stack, suffix) in new[] { ("originals.tif", "orig"), ("reconstructions.tif", "recon") })
        {
            var pages = TiffStackTests.ReadPages(Path.Combine(stacks, stack));
            Assert.Equal(9, pages.Count);
            Assert.All(pages, p => Assert.Equal((32, 32, 16), (p.Width, p.Height, p.Bits)));
            var read = ImageReader.Read(Path.Combine(stacks, stack));
            for (var i = 0; i < 9; i++)
                Assert.Equal(ImageReader.Read(Path.Combine(files, $"{i:D6}_{suffix}.tif"))[0].Pixels, read[i].Pixels);
        }
    }

    [SkippableFact]
    public void ImageJ_opens_every_stack_that_sample_augment_and_reconstruct_write_as_a_stack_of_the_right_slice_count()
    {
        var jar = ImageJ.Require();
        var dir = _tmp.Path("out");
        Ok("sample", "--run", small.Run, "--out", Path.Combine(dir, "sample"), "--count", "5", "--format", "tiff-stack", "--device", "cpu");
        Ok("reconstruct", "--run", small.Run, "--out", Path.Combine(dir, "recon"), "--count", "4", "--format", "tiff-stack8", "--device", "cpu");
        Ok("augment", "--run", small.Run, "--out", Path.Combine(dir, "aug"), "--count", "3", "--format", "tiff-stack", "--class", "c", "--device", "cpu");
        var rows = Manifest.Read(Path.Combine(dir, "aug", "manifest-c.csv"));
        (string File, int Slices, int Bits)[] expected =
        [
            ("sample/samples.tif", 5, 16), ("recon/originals.tif", 4, 8), ("recon/reconstructions.tif", 4, 8),
            .. rows.GroupBy(r => r.Path).Select(g => ("aug/" + g.Key, g.Count(), 16)),
        ];
        var opened = ImageJ.Open(jar, [.. expected.Select(e => Path.Combine(dir, e.File))]);
        foreach (var (e, o) in expected.Zip(opened))
        {
            Assert.True((o.StackSize, o.Slices, o.Channels, o.Frames, o.BitDepth, o.Width, o.Height) == (e.Slices, e.Slices, 1, 1, e.Bits, 32, 32),
                string.Create(CultureInfo.InvariantCulture, $"{e.File}: ImageJ opened {o}"));
            // ImageJ reads only the first directory of an ImageJ stack and takes the slices to follow one another: every
            // slice's pixels must be where the TIFF's own directories (OpenCV's reading) put them.
            var pages = ImageReader.Read(Path.Combine(dir, e.File));
            Assert.Equal(pages.Select(pg => (long)pg.Pixels.Sum(v => (double)v)), o.Sums);
        }
    }
}
