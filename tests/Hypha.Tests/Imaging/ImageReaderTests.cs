using Hypha.Imaging;

namespace Hypha.Tests.Imaging;

/// <summary>Reads every image file in ../shared/data and checks it against the per-file table in each set's SOURCES.md.</summary>
public class ImageReaderTests
{
    /// <summary>(set, file, width, height, pages, bits, channels) from the SOURCES.md tables.</summary>
    public static TheoryData<string, string, int, int, int, int, int> SharedFiles()
    {
        var data = new TheoryData<string, string, int, int, int, int, int>();
        foreach (var sources in Directory.EnumerateFiles(SharedData.Root, "SOURCES.md", SearchOption.AllDirectories).Order())
        {
            var set = Path.GetFileName(Path.GetDirectoryName(sources))!;
            foreach (var line in File.ReadLines(sources))
            {
                var cells = line.Split('|', StringSplitOptions.TrimEntries);
                // | file | bytes | format | WxH | pages | bits | channels | mode | origin | sha |
                if (cells.Length < 9 || !ImageFiles.IsImage(cells[1])) continue;
                var size = cells[4].Split('x');
                data.Add(set, cells[1], int.Parse(size[0]), int.Parse(size[1]), int.Parse(cells[5]), int.Parse(cells[6]), int.Parse(cells[7]));
            }
        }
        return data;
    }

    [Fact]
    public void EveryImageFileInSharedDataIsListed()
    {
        var onDisk = Directory.EnumerateFiles(SharedData.Root, "*", SearchOption.AllDirectories).Count(ImageFiles.IsImage);
        Assert.Equal(onDisk, SharedFiles().Count);
        Assert.True(onDisk >= 38);
    }

    [Theory]
    [MemberData(nameof(SharedFiles))]
    public void ReadsAtFullDepthWithEveryPage(string set, string file, int width, int height, int pages, int bits, int channels)
    {
        var images = ImageReader.Read(SharedData.Path(set, file));
        Assert.Equal(pages, images.Count);
        Assert.All(images, img =>
        {
            Assert.Equal(width, img.Width);
            Assert.Equal(height, img.Height);
            Assert.Equal(bits, img.BitDepth);
            Assert.Equal(channels == 1 ? 1 : 3, img.Channels);
            Assert.Equal(img.Channels * width * height, img.Pixels.Length);
        });
        var max = images[0].Pixels.Max();
        if (bits == 16) Assert.True(max > 255, $"16-bit data kept its range (max {max})");
        else Assert.True(max <= 255);
        Assert.True(images[0].Pixels.Distinct().Take(3).Count() > 1, "image is not constant");
    }

    [Fact]
    public void PageSelectionPicksFocalPlanes()
    {
        var path = SharedData.Path("morpholibj_arabidopsis_embryo", "arabidopsis-embryo.tif");
        var picked = ImageReader.Read(path, PageSelection.Parse("0,10-12"));
        Assert.Equal([0, 10, 11, 12], picked.Select(p => p.Page));
        Assert.Equal("arabidopsis-embryo.tif[page 10]", picked[1].Label);
    }

    [Fact]
    public void RgbIsInRgbOrder()
    {
        // ihc.png is an H-DAB stained brightfield image: brown-blue, never green-dominant on average.
        var img = ImageReader.Read(SharedData.Path("skimage_debian", "ihc.png"))[0];
        int n = img.Width * img.Height;
        double r = img.Pixels.Take(n).Average(), b = img.Pixels.Skip(2 * n).Average();
        var png = OpenCvSharp.Cv2.ImRead(SharedData.Path("skimage_debian", "ihc.png"), OpenCvSharp.ImreadModes.Color);
        var bgrMean = OpenCvSharp.Cv2.Mean(png);
        Assert.Equal(bgrMean.Val2, r, 3);   // OpenCV's channel 2 is red
        Assert.Equal(bgrMean.Val0, b, 3);
    }

    [Fact]
    public void GlobsAndFoldersExpandToSortedImageFiles()
    {
        var fromFolder = ImageFiles.Expand([SharedData.Path("trackpy_particles")]);
        Assert.Equal(3, fromFolder.Count);
        var fromGlob = ImageFiles.Expand([SharedData.Path("trackpy_particles") + "/*.png"]);
        Assert.Equal(2, fromGlob.Count);
        Assert.Equal(fromGlob.Order(StringComparer.Ordinal), fromGlob);
    }
}
