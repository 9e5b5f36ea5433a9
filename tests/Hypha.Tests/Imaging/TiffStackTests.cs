using System.Buffers.Binary;
using BitMiracle.LibTiff.Classic;
using Hypha.Imaging;
using static TorchSharp.torch;

namespace Hypha.Tests.Imaging;

/// <summary>Issue 16: the Fiji/ImageJ stack, read back with LibTiff.NET (pages, size, bit depth, description, pixels) and with OpenCV.</summary>
public class TiffStackTests
{
    /// <summary>What a reader finds in one directory of a TIFF.</summary>
    public sealed record Page(int Width, int Height, int Bits, int Samples, Photometric Photometric, string? Description, byte[] Pixels, long StripOffset);

    /// <summary>Every directory of the TIFF at <paramref name="path"/>, through LibTiff.NET.</summary>
    public static List<Page> ReadPages(string path)
    {
        using var tif = Tiff.Open(path, "r")!;
        var pages = new List<Page>();
        do
        {
            int w = tif.GetField(TiffTag.IMAGEWIDTH)[0].ToInt(), h = tif.GetField(TiffTag.IMAGELENGTH)[0].ToInt();
            var bits = tif.GetField(TiffTag.BITSPERSAMPLE)[0].ToInt();
            var spp = tif.GetField(TiffTag.SAMPLESPERPIXEL)[0].ToInt();
            var photometric = (Photometric)tif.GetField(TiffTag.PHOTOMETRIC)[0].ToInt();
            var description = tif.GetField(TiffTag.IMAGEDESCRIPTION)?[0].ToString();
            var pixels = new byte[tif.StripSize() * tif.NumberOfStrips()];
            var at = 0;
            for (var s = 0; s < tif.NumberOfStrips(); s++) at += tif.ReadEncodedStrip(s, pixels, at, -1);
            var offsets = tif.GetField(TiffTag.STRIPOFFSETS)[0].TolongArray();
            pages.Add(new Page(w, h, bits, spp, photometric, description, pixels[..at], offsets[0]));
        } while (tif.ReadDirectory());
        return pages;
    }

    static Tensor Images(int n, int c, int size, int seed)
    {
        using var gen = new Generator((ulong)seed);
        return rand([n, c, size, size], generator: gen);
    }

    static string Write(string dir, Tensor images, int bits)
    {
        var path = Path.Combine(dir, $"stack{bits}_{images.shape[1]}.tif");
        using var fs = File.Create(path);
        var writer = new TiffStackWriter(fs, (int)images.shape[0], (int)images.shape[1], (int)images.shape[3], (int)images.shape[2], bits);
        for (var i = 0; i < images.shape[0]; i++) writer.Add(images[i]);
        writer.Finish();
        return path;
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void A_gray_stack_has_one_page_per_image_and_ImageJs_description_on_the_first(int bits)
    {
        using var dir = new TempDir();
        using var images = Images(5, 1, 24, seed: bits);
        var path = Write(dir.Path, images.narrow(2, 0, 20).contiguous(), bits); // 24 wide, 20 high: width and height are not mixed up
        var pages = ReadPages(path);
        Assert.Equal(5, pages.Count);
        Assert.All(pages, p => Assert.Equal((24, 20, bits, 1, Photometric.MINISBLACK), (p.Width, p.Height, p.Bits, p.Samples, p.Photometric)));
        var expected = "ImageJ=1.11a\nimages=5\nslices=5\nloop=false\n" + (bits == 16 ? "min=0.0\nmax=65535.0\n" : "");
        Assert.Equal(expected, pages[0].Description);
        Assert.Equal(expected, TiffStackWriter.Description(5, 1, bits));
        Assert.All(pages.Skip(1), p => Assert.Null(p.Description));
        for (var i = 0; i < 5; i++) Assert.Equal(ImageEncoding.Pixels(images[i].narrow(1, 0, 20), bits), pages[i].Pixels);
        // ImageJ reads only the first directory and takes the slices to follow one another from its strip: they must.
        Assert.Equal(Enumerable.Range(0, 5).Select(i => 8L + i * 24 * 20 * bits / 8), pages.Select(p => p.StripOffset));

        // OpenCV (how Hypha and most tools read a TIFF) sees the same five images and values as the single-file encoder writes.
        var read = ImageReader.Read(path);
        Assert.Equal(5, read.Count);
        var single = Path.Combine(dir.Path, "one.tif");
        File.WriteAllBytes(single, ImageEncoding.Encode(images[3].narrow(1, 0, 20), bits == 8 ? ImageFormat.Png8 : ImageFormat.Tiff16));
        var one = ImageReader.Read(single)[0];
        Assert.Equal((one.Width, one.Height, one.BitDepth), (read[3].Width, read[3].Height, read[3].BitDepth));
        Assert.Equal(one.Pixels, read[3].Pixels);
    }

    [Fact]
    public void Rgb_stacks_are_an_RGB_stack_in_8_bits_and_a_three_channel_composite_hyperstack_in_16()
    {
        using var dir = new TempDir();
        using var images = Images(4, 3, 16, seed: 3);
        var rgb8 = ReadPages(Write(dir.Path, images, 8));
        Assert.Equal(4, rgb8.Count);
        Assert.All(rgb8, p => Assert.Equal((3, Photometric.RGB, 8), (p.Samples, p.Photometric, p.Bits)));
        Assert.Equal("ImageJ=1.11a\nimages=4\nslices=4\nloop=false\n", rgb8[0].Description);
        Assert.Equal(ImageEncoding.Pixels(images[2], 8), rgb8[2].Pixels);
        // The single-file encoder (from the same quantized pixels) keeps red, green and blue in their places.
        foreach (var format in new[] { ImageFormat.Png8, ImageFormat.Tiff16 })
        {
            var file = Path.Combine(dir.Path, "rgb" + format.Extension());
            File.WriteAllBytes(file, ImageEncoding.Encode(images[2], format));
            var read = ImageReader.Read(file)[0];
            var scale = format == ImageFormat.Png8 ? 255f : 65535f;
            using var expected = (images[2] * scale).round().flatten();
            Assert.Equal(expected.data<float>().ToArray(), read.Pixels);
        }

        var rgb16 = ReadPages(Write(dir.Path, images, 16));
        Assert.Equal(12, rgb16.Count); // image-major: slice 0's red, green, blue, then slice 1's...
        Assert.Equal(Enumerable.Range(0, 12).Select(i => 8L + i * 16 * 16 * 2), rgb16.Select(p => p.StripOffset));
        Assert.All(rgb16, p => Assert.Equal((1, Photometric.MINISBLACK, 16), (p.Samples, p.Photometric, p.Bits)));
        Assert.Equal("ImageJ=1.11a\nimages=12\nchannels=3\nslices=4\nhyperstack=true\nmode=composite\nloop=false\nmin=0.0\nmax=65535.0\n", rgb16[0].Description);
        Assert.Equal(ImageEncoding.Pixels(images[1].narrow(0, 2, 1), 16), rgb16[1 * 3 + 2].Pixels);
        var green = rgb16[3 * 3 + 1].Pixels;
        Assert.Equal((ushort)Math.Round(images[3, 1, 0, 5].item<float>() * 65535), BinaryPrimitives.ReadUInt16LittleEndian(green.AsSpan(2 * 5)));
    }

    [Fact]
    public void A_stack_past_4_GiB_is_refused_before_anything_is_written_and_a_short_one_cannot_be_finished()
    {
        var e = Assert.Throws<HyphaException>(() => TiffStackWriter.Check(100_000, 1, 224, 224, 16));
        Assert.Equal(ExitCode.InvalidConfig, e.Code);
        Assert.Contains("--format tiff-stack", e.Message);
        Assert.Contains("4 GiB", e.Message);
        TiffStackWriter.Check(40_000, 1, 224, 224, 16); // 3.7 GiB fits

        using var ms = new MemoryStream();
        var writer = new TiffStackWriter(ms, 2, 1, 8, 8, 8);
        using var one = zeros(1, 8, 8);
        writer.Add(one);
        Assert.Throws<InvalidOperationException>(writer.Finish);
        using var wrong = zeros(1, 8, 9);
        Assert.Throws<ArgumentException>(() => writer.Add(wrong));
    }
}
