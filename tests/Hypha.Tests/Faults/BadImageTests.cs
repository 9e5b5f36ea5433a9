using System.Diagnostics;
using System.Text.RegularExpressions;
using Hypha.Imaging;

namespace Hypha.Tests.Faults;

/// <summary>
/// Every bad file of issue 5 through <see cref="ImageReader"/>: a <see cref="HyphaException"/> with
/// <see cref="ExitCode.BadInput"/> whose message names the file and the problem, never a partial image.
/// </summary>
public sealed class BadImageTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>Case name -> (builder, what the message must say).</summary>
    internal static readonly Dictionary<string, (Func<string, string> Build, string Problem)> Cases = new()
    {
        ["zero-byte"] = (d => BadFiles.ZeroBytes(d), "empty"),
        ["text-named-png"] = (d => BadFiles.TextAsPng(d), "not a PNG|not an image"),
        ["truncated-jpeg"] = (d => BadFiles.Truncated(BadFiles.Jpeg, d), "truncated"),
        ["truncated-png8"] = (d => BadFiles.Truncated(BadFiles.Png8, d), "truncated"),
        ["truncated-png16"] = (d => BadFiles.Truncated(BadFiles.Png16, d, 0.8), "truncated"),
        ["truncated-tiff-ifd-lost"] = (d => BadFiles.Truncated(BadFiles.Tiff16, d), "truncated"),
        ["truncated-tiff-strip-cut"] = (d => BadFiles.Truncated(BadFiles.Tiff16HeaderFirst, d), "truncated"),
        ["truncated-tiff-pages-lost"] = (d => BadFiles.Truncated(BadFiles.MultiPageTiff, d), "truncated"),
        ["random-with-png-magic"] = (d => BadFiles.RandomWithMagic(d, "png"), "corrupt"),
        ["random-with-jpeg-magic"] = (d => BadFiles.RandomWithMagic(d, "jpg"), "corrupt"),
        ["random-with-tiff-magic"] = (d => BadFiles.RandomWithMagic(d, "tif"), "corrupt"),
        ["tiff-missing-width-tag"] = (d => BadFiles.TiffMissingTag(d), "ImageWidth"),
        ["tiff-missing-strip-offsets"] = (d => BadFiles.TiffMissingTag(d, 273, "missing-strip-offsets.tif"), "StripOffsets"),
        ["tiff-strip-offsets-past-end"] = (d => BadFiles.TiffBrokenStripOffsets(d), "truncated|past the end"),
        ["tiff-13-bits"] = (d => BadFiles.TiffBrokenBitsPerSample(d), "13 bits"),
        ["tiff-claims-100000px"] = (d => BadFiles.TiffHuge(d), "100000 x 100000"),
        ["png-claims-100000px"] = (d => BadFiles.PngHuge(d), "100000 x 100000"),
        ["png-claims-4294967295px"] = (d => BadFiles.PngHuge(d, uint.MaxValue), "4294967295 x 4294967295 pixels \\(18,446,744,065,119,617,025\\)"),
        ["jpeg-claims-65535px"] = (d => BadFiles.JpegHuge(d), "65535 x 65535"),
        ["float-tiff-nan"] = (d => BadFiles.FloatTiff(d, "nan.tif", float.NaN), "NaN"),
        ["float-tiff-inf"] = (d => BadFiles.FloatTiff(d, "inf.tif", float.PositiveInfinity), "infinite"),
        ["float-tiff-neg-inf"] = (d => BadFiles.FloatTiff(d, "neginf.tif", float.NegativeInfinity), "infinite"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Reader_refuses_with_file_and_problem(string name)
    {
        var (build, problem) = Cases[name];
        var path = build(_tmp.Root);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<HyphaException>(() => ImageReader.Read(path));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"{name}: took {sw.Elapsed}");
        Assert.Equal(ExitCode.BadInput, e.Code);
        Assert.Contains(path, e.Message);
        Assert.True(Regex.IsMatch(e.Message, problem, RegexOptions.IgnoreCase), $"{name}: '{problem}' not in: {e.Message}");
        // Managed allocations stay small (a 100000^2 header must not make us allocate the image).
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 256L << 20, $"{name}: allocated too much");
    }

    [Fact]
    public void Palette_tiff_reads_as_rgb_through_its_colour_map()
    {
        var path = BadFiles.PaletteTiff(_tmp.Root);
        var img = Assert.Single(ImageReader.Read(path));
        Assert.Equal(3, img.Channels);
        Assert.Equal((64, 48), (img.Width, img.Height));
        // pixel (x=10, y=0) has index 40: red 40, green 0, blue 215 (8-bit colour map values)
        int plane = img.Width * img.Height, at = 10;
        Assert.Equal(40, img.Pixels[at], 1.0);
        Assert.Equal(0, img.Pixels[plane + at], 1.0);
        Assert.Equal(215, img.Pixels[2 * plane + at], 1.0);
    }

    [Fact]
    public void Rgba_png_reads_as_rgb_with_alpha_dropped()
    {
        var path = BadFiles.RgbaPng(_tmp.Root);
        var img = Assert.Single(ImageReader.Read(path));
        Assert.Equal(3, img.Channels);
        // written as BGRA (x*3, y*4, x+y, 255-x); read as RGB: R = x+y, G = y*4, B = x*3 at (x=5, y=2)
        int plane = img.Width * img.Height, at = 2 * img.Width + 5;
        Assert.Equal(7, img.Pixels[at]);
        Assert.Equal(8, img.Pixels[plane + at]);
        Assert.Equal(15, img.Pixels[2 * plane + at]);
    }

    [Fact]
    public void One_pixel_and_small_images_read_but_constant_ones_are_refused_by_normalization()
    {
        var one = Assert.Single(ImageReader.Read(BadFiles.OnePixel(_tmp.Root)));
        Assert.Equal((1, 1), (one.Width, one.Height));
        var small = Assert.Single(ImageReader.Read(BadFiles.SmallCrop(_tmp.Root)));
        Assert.Equal((20, 20), (small.Width, small.Height));

        var constant = BadFiles.Constant(_tmp.Root);
        var e = Assert.Throws<HyphaException>(() => Normalization.Apply(ImageReader.Read(constant)[0], NormalizeMode.Standardize));
        Assert.Equal(ExitCode.BadInput, e.Code);
        Assert.Contains(constant, e.Message);
        Assert.Contains("standard deviation 0", e.Message);
        e = Assert.Throws<HyphaException>(() => Normalization.Apply(ImageReader.Read(constant)[0], NormalizeMode.Percentile));
        Assert.Contains("no contrast", e.Message);
        // A one-pixel image is constant too.
        Assert.Throws<HyphaException>(() => Normalization.Apply(one, NormalizeMode.Standardize));
    }

    [SkippableFact]
    public void Unreadable_file_is_BadInput_not_an_output_error()
    {
        Skip.If(Environment.UserName == "root" || OperatingSystem.IsWindows(), "root reads files whatever their mode; needs a non-root POSIX user");
        var path = BadFiles.Copy(BadFiles.Png8, _tmp.Root);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.None);
        var e = Assert.Throws<HyphaException>(() => ImageReader.Read(path));
        Assert.Equal(ExitCode.BadInput, e.Code);
        Assert.Contains(path, e.Message);
        Assert.Contains("cannot be opened", e.Message);
    }

    [Fact]
    public void BigTiff_pages_read_at_full_depth()
    {
        var pages = ImageReader.Read(BadFiles.BigTiff(_tmp.Root));
        Assert.Equal(2, pages.Count);
        Assert.Equal(16, pages[1].BitDepth);
        Assert.Equal(1000 + 10 * 5 + 3, pages[1].Pixels[3 * 40 + 5]);
    }

    [Fact]
    public void Float_tiff_without_poison_reads()
    {
        var img = Assert.Single(ImageReader.Read(BadFiles.FloatTiff(_tmp.Root, "ok.tif", null)));
        Assert.Equal(32, img.BitDepth);
        Assert.All(img.Pixels, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Real_files_used_to_build_bad_ones_read_whole()
    {
        Assert.Single(ImageReader.Read(BadFiles.Jpeg));
        Assert.Single(ImageReader.Read(BadFiles.Png8));
        Assert.Single(ImageReader.Read(BadFiles.Png16));
        Assert.Single(ImageReader.Read(BadFiles.Tiff16));
        Assert.Single(ImageReader.Read(BadFiles.Tiff16HeaderFirst));
        Assert.Equal(5, ImageReader.Read(BadFiles.MultiPageTiff).Count);
    }
}
