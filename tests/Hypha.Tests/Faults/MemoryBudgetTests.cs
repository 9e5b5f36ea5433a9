using System.Text.Json;
using Hypha.Data;
using Hypha.Imaging;

namespace Hypha.Tests.Faults;

/// <summary>
/// Issue 15, "Limits": a 256-megapixel image passes the pixel guard and takes gigabytes. prepare says how much memory the
/// normalized images take, and images whose estimate (from their headers, before any pixel is read) exceeds
/// --memory-budget are refused with exit 8, leaving nothing behind.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class MemoryBudgetTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void A_256_megapixel_header_over_the_budget_is_refused_before_its_pixels_are_read()
    {
        // A small file whose header claims 16000 x 16000 (its pixel data is a 550 x 660 image's: decoding it would fail
        // with exit 3, so exit 8 shows that nothing was decoded).
        var huge = BadFiles.PngHuge(_tmp.Root, 16_000);
        Assert.True(new FileInfo(huge).Length < 1 << 20);
        var outDir = _tmp.Path("prepared");
        var r = Cli.Run("prepare", "--preset", "cpu", "--images", huge, "--chunk", "32", "--memory-budget", "512M", "--out", outDir);
        Assert.True(r.Code == (int)ExitCode.OutOfMemory, r.ToString());
        var line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("would take about", line);
        Assert.Contains("(977 MiB normalized", line); // 16000 x 16000 x 4 bytes
        Assert.Contains($"while reading the largest, {huge} (16000 x 16000)", line);
        Assert.Contains("more than the memory budget of 512 MiB (--memory-budget); refused before reading any pixel", line);
        Assert.False(Directory.Exists(outDir));

        var run = _tmp.Path("run");
        var t = Cli.Run(Tiny.TrainOn([huge], run, "--memory-budget", "1G"));
        Assert.True(t.Code == (int)ExitCode.OutOfMemory, t.ToString());
        Assert.False(Directory.Exists(run), "the refused run left its folder behind");
    }

    [Fact]
    public void Prepare_says_what_the_normalized_images_take_and_records_it()
    {
        var outDir = _tmp.Path("prepared");
        var r = Cli.Run("prepare", "--preset", "cpu", "--images", Tiny.Image, "--chunk", "32", "--memory-budget", "64M", "--out", outDir);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("memory: the normalized images take 1.38 MiB (estimated from the headers before reading:", r.Out); // 550 x 660 x 4 bytes
        Assert.Contains("budget 64 MiB (--memory-budget)", r.Out);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "dataset.json")));
        Assert.Equal(550L * 660 * 4, json.RootElement.GetProperty("normalized_bytes").GetInt64());

        var share = Cli.Run("prepare", "--preset", "cpu", "--images", Tiny.Image, "--chunk", "32", "--out", _tmp.Path("p2"));
        Assert.Matches(@"budget [\d.]+ [KMGT]iB, 50% of [\d.]+ [KMGT]iB of physical memory, \(--memory-budget\)", share.Out);
    }

    [Theory]
    [InlineData("skimage_debian", "cell.png", "gray", "all")]
    [InlineData("skimage_debian", "ihc.png", "rgb", "all")]
    [InlineData("amf_ink_roots", "N_benthamiana_roots_R_irregularis_ink_low_magnification_1.jpg", "gray", "all")]
    [InlineData("skimage_tutorials_cc0", "zebrafish-spinal-cord.png", "gray", "all")]
    [InlineData("skimage_tutorials_cc0", "chromosomes.tif", "rgb", "all")]
    [InlineData("trackpy_particles", "stuck.tif", "gray", "0,2-3")]
    public void The_estimate_from_the_headers_is_what_the_normalized_images_take(string set, string file, string channels, string pages)
    {
        var options = new DataOptions
        {
            Images = [SharedData.Path(set, file)], Chunk = 32, Stride = 32, Pages = pages, Split = SplitMode.Chunks,
            Channels = channels == "rgb" ? ChannelMode.Rgb : ChannelMode.Gray, MinMean = 0, MaxMean = 1,
        };
        var data = DatasetBuilder.Build(options, seed: 0);
        Assert.NotNull(data.Memory);
        Assert.Equal(data.NormalizedBytes, data.Memory.Value.Estimate.NormalizedBytes);
        Assert.True(data.Memory.Value.Estimate.PeakBytes > data.NormalizedBytes);
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("150%")]
    [InlineData("-1G")]
    public void A_budget_that_does_not_parse_is_one_line_naming_the_option(string spec)
    {
        var r = Cli.Run("prepare", "--images", Tiny.Image, "--memory-budget", spec, "--out", _tmp.Path("p"));
        Assert.True(r.Code == (int)ExitCode.InvalidConfig, r.ToString());
        var line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"--memory-budget: '{spec}'", line);
    }

    [Theory]
    [InlineData("8G", 8L << 30)]
    [InlineData("512M", 512L << 20)]
    [InlineData("2.5GiB", 5L << 29)]
    [InlineData("1000", 1000L)]
    [InlineData("64kb", 64L << 10)]
    public void Budget_sizes_are_powers_of_1024(string spec, long bytes) =>
        Assert.Equal(bytes, ImageMemoryBudget.Resolve(spec).Bytes);
}
