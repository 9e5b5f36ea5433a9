using System.Text.Json;
using BitMiracle.LibTiff.Classic;
using OpenCvSharp;

namespace Hypha.Tests.Faults;

/// <summary>
/// Issue 15, "Limits": validation and test shares grow when images are small (each held-out band is at least one chunk
/// wide) or files are few (each part holds at least one). The shares obtained are reported beside those asked for, and
/// a part over twice its asked share is refused unless --allow-uneven-split.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class SplitShareTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>A multi-page 8-bit TIFF of <paramref name="pages"/> 100 x 100 crops of a real image (the issue's 1000-page stack, smaller).</summary>
    string SmallPages(int pages = 12)
    {
        var path = _tmp.Path("pages.tif");
        using var src = Cv2.ImRead(BadFiles.Png8, ImreadModes.Grayscale);
        using var tif = Tiff.Open(path, "w")!;
        for (var p = 0; p < pages; p++)
        {
            using var crop = new Mat(src, new Rect(20 * (p % 20), 15 * (p % 30), 100, 100)).Clone();
            tif.SetField(TiffTag.IMAGEWIDTH, 100);
            tif.SetField(TiffTag.IMAGELENGTH, 100);
            tif.SetField(TiffTag.BITSPERSAMPLE, 8);
            tif.SetField(TiffTag.SAMPLESPERPIXEL, 1);
            tif.SetField(TiffTag.PHOTOMETRIC, Photometric.MINISBLACK);
            tif.SetField(TiffTag.ROWSPERSTRIP, 100);
            tif.SetField(TiffTag.SUBFILETYPE, FileType.PAGE);
            tif.SetField(TiffTag.PAGENUMBER, p, pages);
            var row = new byte[100];
            for (var y = 0; y < 100; y++)
            {
                for (var x = 0; x < 100; x++) row[x] = crop.At<byte>(y, x);
                tif.WriteScanline(row, y);
            }
            tif.WriteDirectory();
        }
        return path;
    }

    [Fact]
    public void Small_pages_that_make_the_held_out_parts_a_third_each_are_refused_with_the_shares()
    {
        var pages = SmallPages();
        string[] args = ["prepare", "--preset", "cpu", "--images", pages, "--chunk", "32", "--stride", "32", "--min-mean", "0", "--max-mean", "1"];
        var r = Cli.Run([.. args, "--out", _tmp.Path("refused")]);
        Assert.True(r.Code == (int)ExitCode.BadInput, r.ToString());
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("the regions split gives validation 32% (asked 10%) and test 36% (asked 10%) of the image length", r.Err);
        Assert.Contains("each held-out band is at least one chunk (32 px) wide", r.Err);
        Assert.Contains("--allow-uneven-split", r.Err);
        Assert.False(Directory.Exists(_tmp.Path("refused")));

        var ok = Cli.Run([.. args, "--allow-uneven-split", "--out", _tmp.Path("accepted")]);
        Assert.True(ok.Code == 0, ok.ToString());
        Assert.Contains("shares: validation 32% (asked 10%), test 36% (asked 10%) of the image length; of the kept chunks: train 33.3%, validation 33.3%, test 33.3%", ok.Out);
        using var json = JsonDocument.Parse(File.ReadAllText(_tmp.Path("accepted", "dataset.json")));
        var shares = json.RootElement.GetProperty("shares");
        Assert.Equal(0.1, shares.GetProperty("validation_asked").GetDouble());
        Assert.Equal(0.32, shares.GetProperty("validation").GetDouble(), 6);
        Assert.Equal(1 / 3.0, shares.GetProperty("test_chunks").GetDouble(), 6);
    }

    [Fact]
    public void A_run_trained_before_the_check_is_not_refused_when_its_images_are_read_again()
    {
        var run = _tmp.Path("run");
        var r = Cli.Run(Tiny.TrainOn([SmallPages()], run, "--min-mean", "0", "--max-mean", "1", "--allow-uneven-split"));
        Assert.True(r.Code == 0, r.ToString());
        // As a run made before shares were checked: its config does not allow the uneven split.
        var config = Path.Combine(run, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"allow_uneven_split\": true", "\"allow_uneven_split\": false"));
        var e = Cli.Run("evaluate", "--run", run, "--metrics", "psnr", "--test-limit", "8", "--threads", "1");
        Assert.True(e.Code == 0, e.ToString());
        var resumed = Cli.Run("train", "--run", run, "--resume", "--epochs", "2");
        Assert.True(resumed.Code == 0, resumed.ToString());
    }

    [Fact]
    public void Three_files_split_by_images_are_a_third_each_and_refused()
    {
        var files = Directory.GetFiles(SharedData.Path("bbbc039_u2os_nuclei"), "*.tif").Order().Take(3).ToArray();
        var r = Cli.Run(["prepare", "--preset", "cpu", "--images", .. files, "--chunk", "64", "--stride", "64", "--split", "images", "--out", _tmp.Path("p")]);
        Assert.True(r.Code == (int)ExitCode.BadInput, r.ToString());
        Assert.Contains("the images split gives validation 33.3% (asked 10%) and test 33.3% (asked 10%) of the source units", r.Err);
        Assert.Contains("each part holds at least one of the 3 source units", r.Err);
    }

    [Fact]
    public void Shares_within_twice_the_ask_pass_and_are_reported()
    {
        var r = Cli.Run("prepare", "--preset", "cpu", "--images", Tiny.Image, "--chunk", "32", "--stride", "16", "--out", _tmp.Path("p"));
        Assert.True(r.Code == 0, r.ToString());
        Assert.Matches(@"shares: validation 1\d(\.\d)?% \(asked 10%\), test 1\d(\.\d)?% \(asked 10%\) of the image length; of the kept chunks: train", r.Out);
    }
}
