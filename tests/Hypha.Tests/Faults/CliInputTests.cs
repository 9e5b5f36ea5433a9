using System.Text.RegularExpressions;

namespace Hypha.Tests.Faults;

/// <summary>
/// Bad input, folders and configuration through the CLI in-process: the exit code, a message naming the file and
/// the problem on stderr, and no output left behind.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class CliInputTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static void AssertFails(CliResult r, ExitCode code, params string[] patterns)
    {
        Assert.True(r.Code == (int)code, $"expected exit {(int)code} ({code}):\n{r}");
        foreach (var p in patterns)
            Assert.True(Regex.IsMatch(r.Err, p, RegexOptions.IgnoreCase), $"'{p}' not on stderr:\n{r}");
        Assert.DoesNotContain("unexpected error", r.Err);
    }

    public static TheoryData<string> BadFileCases => new(BadImageTests.Cases.Keys);

    [Theory]
    [MemberData(nameof(BadFileCases))]
    public void Train_on_one_bad_file_fails_with_BadInput_and_writes_nothing(string name)
    {
        var (build, problem) = BadImageTests.Cases[name];
        var bad = build(_tmp.Path());
        var run = _tmp.Path("run");
        var r = Cli.Run(Tiny.TrainOn([bad], run));
        AssertFails(r, ExitCode.BadInput, Regex.Escape(bad), problem);
        Assert.False(Directory.Exists(run), "the run folder was left behind");
    }

    [Theory]
    [InlineData("one-pixel", "constant .*standard deviation 0|no contrast: its")]
    [InlineData("small", "too small for the region split at chunk 32")]
    [InlineData("small-chunks-split", "no image is at least 32 x 32")]
    [InlineData("constant", "standard deviation 0|no contrast: its")]
    public void Train_on_an_unusable_image_fails_with_BadInput(string kind, string problem)
    {
        var bad = kind switch
        {
            "one-pixel" => BadFiles.OnePixel(_tmp.Root),
            "small" or "small-chunks-split" => BadFiles.SmallCrop(_tmp.Root),
            _ => BadFiles.Constant(_tmp.Root),
        };
        var run = _tmp.Path("run");
        var r = Cli.Run(Tiny.TrainOn([bad], run, kind == "small-chunks-split" ? ["--split", "chunks"] : []));
        AssertFails(r, ExitCode.BadInput, problem);
        if (kind != "small-chunks-split") Assert.Contains(bad, r.Err);
        Assert.False(Directory.Exists(run));
    }

    /// <summary>Five real files plus bad ones: the default skips and lists them, --on-bad-image fail stops before any work.</summary>
    [Fact]
    public void Several_inputs_skip_and_list_bad_files_or_fail_before_any_work()
    {
        var good = Directory.GetFiles(SharedData.Path("bbbc039_u2os_nuclei"), "*.tif").Order().Take(5).ToArray();
        var bad = new[]
        {
            BadFiles.Truncated(BadFiles.Jpeg, _tmp.Root),
            BadFiles.TextAsPng(_tmp.Root),
            BadFiles.FloatTiff(_tmp.Root, "nan.tif", float.NaN),
        };
        string[] common = ["prepare", "--preset", "cpu", "--chunk", "64", "--stride", "32", "--images", .. good, .. bad];

        var failOut = _tmp.Path("fail");
        var r = Cli.Run([.. common, "--on-bad-image", "fail", "--out", failOut]);
        AssertFails(r, ExitCode.BadInput, Regex.Escape(bad[2]), "NaN");
        Assert.False(Directory.Exists(failOut), "--on-bad-image fail wrote output");

        var skipOut = _tmp.Path("skip");
        r = Cli.Run([.. common, "--out", skipOut]);
        Assert.True(r.Code == 0, r.ToString());
        var json = File.ReadAllText(Path.Combine(skipOut, "dataset.json"));
        foreach (var b in bad) Assert.Contains(b, json);
        Assert.Contains("truncated", json);
        Assert.Contains("NaN", json);
        Assert.Contains("not a PNG, JPEG or TIFF", json);

        // Every file bad: nothing to do, each listed.
        var noneOut = _tmp.Path("none");
        r = Cli.Run(["prepare", "--preset", "cpu", "--images", .. bad, "--out", noneOut]);
        AssertFails(r, ExitCode.BadInput, "none of the 3 image file", Regex.Escape(bad[1]), Regex.Escape(bad[2]));
        Assert.False(Directory.Exists(noneOut));
    }

    [Fact]
    public void A_run_folder_the_user_made_is_kept_when_training_cannot_start()
    {
        var run = Directory.CreateDirectory(_tmp.Path("mine")).FullName;
        var r = Cli.Run(Tiny.TrainOn([BadFiles.ZeroBytes(_tmp.Root)], run));
        AssertFails(r, ExitCode.BadInput, "empty");
        Assert.True(Directory.Exists(run));
        Assert.Empty(TempDir.FilesUnder(run));
    }

    [Fact]
    public void Folder_without_images_fails_with_BadInput()
    {
        var dir = Directory.CreateDirectory(_tmp.Path("empty-folder")).FullName;
        File.WriteAllText(Path.Combine(dir, "readme.txt"), "no images here");
        var run = _tmp.Path("run");
        var r = Cli.Run(Tiny.TrainOn([dir], run));
        AssertFails(r, ExitCode.BadInput, Regex.Escape(dir), "holds no image files");
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void Every_chunk_filtered_out_fails_with_BadInput()
    {
        var run = _tmp.Path("run");
        var r = Cli.Run(Tiny.TrainArgs(run, "--min-mean", "0.4321", "--max-mean", "0.4321"));
        AssertFails(r, ExitCode.BadInput, "every one of the \\d+ chunks was filtered out");
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void A_split_that_leaves_a_part_empty_fails_with_BadInput()
    {
        var small = BadFiles.SmallCrop(_tmp.Root, 48); // 2 x 2 chunks of 32 at stride 16: too few for 10 % validation
        var run = _tmp.Path("run");
        var r = Cli.Run(Tiny.TrainOn([small], run, "--split", "chunks"));
        AssertFails(r, ExitCode.BadInput, "split leaves the validation part empty");
        Assert.False(Directory.Exists(run));

        r = Cli.Run(Tiny.TrainOn([small], run, "--split", "regions"));
        AssertFails(r, ExitCode.BadInput, Regex.Escape(small), "too small for the region split");
        Assert.False(Directory.Exists(run));
    }

    [Theory]
    [InlineData("stride 0", "must be at least 1", "--stride", "0")]
    [InlineData("stride > chunk", "stride 64 is larger than the chunk 32", "--stride", "64")]
    [InlineData("chunk the model cannot take", "chunk size 50 cannot be taken", "--chunk", "50", "--stride", "10")]
    [InlineData("unknown preset", "unknown preset 'huge'", "--preset", "huge")]
    [InlineData("negative epochs", "--epochs: '-3' is not a whole number from 1", "--epochs", "-3")]
    [InlineData("latent 0", "latent size must be at least 1", "--latent", "0")]
    [InlineData("unknown device", "unknown device 'tpu'", "--device", "tpu")]
    [InlineData("min-mean above 1", "must lie in \\[0, 1\\]", "--min-mean", "1.5")]
    [InlineData("max-mean below 0", "must lie in \\[0, 1\\]", "--max-mean", "-0.1")]
    [InlineData("crossed thresholds", "--min-mean 0.8 is above --max-mean 0.2", "--min-mean", "0.8", "--max-mean", "0.2")]
    [InlineData("max-bad-steps 0", "max bad steps must be at least 1", "--max-bad-steps", "0")]
    [InlineData("not a number", "epochs", "--epochs", "many")]
    public void Invalid_configuration_fails_with_InvalidConfig_before_reading_images(string what, string problem, params string[] args)
    {
        Assert.NotNull(what);
        var run = _tmp.Path("run");
        var r = Cli.Run(Tiny.TrainArgs(run, args));
        AssertFails(r, ExitCode.InvalidConfig, problem);
        Assert.False(Directory.Exists(run));
    }

    [SkippableFact]
    public void Cuda_without_cuda_fails_with_DeviceUnavailable()
    {
        Hypha.Torch.TorchBackend.EnsureLoaded();
        Skip.If(TorchSharp.torch.cuda.is_available(), "CUDA is available on this machine");
        var run = _tmp.Path("run");
        var r = Cli.Run(Tiny.TrainArgs(run, "--device", "cuda"));
        AssertFails(r, ExitCode.DeviceUnavailable, "device 'cuda' requested but CUDA is");
        Assert.False(Directory.Exists(run));
    }
}
