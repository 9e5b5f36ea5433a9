using System.Text;
using Hypha.Cli;
using Hypha.Data;
using Hypha.Evaluation;
using Hypha.Imaging;
using Hypha.Reporting;
using Hypha.Runs;
using Hypha.Sampling;
using Hypha.Tests.Training;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

/// <summary>A run folder holding only config.json (SmallRuns.Tiny: 32 px chunks of the AMF images): all a samples-folder evaluation needs.</summary>
public sealed class ConfigOnlyRun : IDisposable
{
    readonly TempDir dir = new();
    public RunFolder Run { get; }
    public RunConfig Config { get; }

    public ConfigOnlyRun()
    {
        Config = SmallRuns.Tiny();
        Run = RunFolder.At(dir["run"]);
        Run.WriteConfig(Config);
    }

    /// <summary>A fresh copy of the run folder (config.json only), so that each test appends to its own metrics.jsonl.</summary>
    public RunFolder Copy(TempDir into)
    {
        var run = RunFolder.At(into["run"]);
        run.WriteConfig(Config);
        return run;
    }

    public void Dispose() => dir.Dispose();
}

/// <summary>hypha evaluate --samples FOLDER and hypha baseline on real data, without a model (small sets: 48 test chunks, 300 training chunks).</summary>
public class SampleFolderEvaluationTests(ConfigOnlyRun fixture) : IClassFixture<ConfigOnlyRun>
{
    static readonly RunEvaluationOptions Options = new() { TrainLimit = 300, TestLimit = 48 };
    static readonly string[] FolderMetrics = ["swd", "ms_ssim", "fd_resnet18", "kid", "precision", "recall", "density", "coverage", "memorization"];

    static RunEvaluationResult Evaluate(RunFolder run, string folder, RunEvaluationOptions? options = null, SampleFolderOptions? read = null)
    {
        using var registry = MetricRegistry.CreateDefault();
        return SampleFolderEvaluation.Run(run, folder, read, options ?? Options, registry);
    }

    /// <summary>
    /// "The same numbers as the floor": the floor of each metric compares test half B with half A. Half B, written
    /// bit for bit (float TIFF) and scored as the samples, must give value == floor exactly for every metric that
    /// compares the samples with half A (swd, fd, kid, PRDC, memorization: same images, same seeds). ms_ssim is a
    /// diversity metric: its value is the MS-SSIM between pairs of samples (B with B), its floor between A and B, so
    /// the two agree only statistically.
    /// </summary>
    [Fact]
    public void Test_half_B_scored_as_a_samples_folder_gives_the_floors()
    {
        using var tmp = new TempDir();
        var run = fixture.Copy(tmp);
        var written = BaselineWriter.Write(run, BaselineKind.Test, 0, tmp["half_b"], seed: 0, BaselineFormat.Tiff32, Options.TrainLimit, Options.TestLimit);
        Assert.Equal(24, written.Count);
        var r = Evaluate(run, tmp["half_b"]).Record;

        Assert.Equal(FolderMetrics, r.Metrics.Select(m => m.Name));
        foreach (var m in r.Metrics.Where(m => m.Name != MsSsimMetric.Key))
            Assert.True(m.Value == m.Floor, $"{m.Name}: value {m.Value} but floor {m.Floor}");
        var ms = r.Metrics.Single(m => m.Name == MsSsimMetric.Key);
        Assert.InRange(ms.Value, ms.Floor!.Value - 0.1, ms.Floor.Value + 0.1);

        Assert.Equal(new[] { IwaeMetric.Key, PsnrMetric.Key, SsimMetric.Key }, r.Skipped.Keys.Order(StringComparer.Ordinal));
        Assert.All(r.Skipped.Values, v => Assert.Equal(SampleFolderEvaluation.NeedsModel, v));
        Assert.Equal(SampleFolderEvaluation.Source, r.Context["source"]);
        Assert.Equal(Path.GetFullPath(tmp["half_b"]), r.Context["samples_folder"]);
        Assert.Equal("half_b", r.Context["samples_folder_name"]);
        Assert.Equal("24", r.Context["samples_files"]);
        Assert.Equal("none", r.Context["resize"]);
        Assert.Equal("false", r.Context["normalize_like_run"]);
        Assert.Equal(64, r.Context["samples_sha256"].Length);
        Assert.DoesNotContain(r.Context.Keys, k => k.Contains("checkpoint"));
        // The line is in metrics.jsonl, and no model evaluation is claimed.
        var line = Assert.Single(MetricsJsonl.ReadAll(RunEvaluation.MetricsPath(run)));
        Assert.Equal(r.Context["samples_sha256"], line.Context["samples_sha256"]);
        Assert.Null(SamplesFolderSection.Latest([line]).Model);
    }

    [Fact]
    public void Copies_of_training_chunks_score_memorization_near_one_and_an_occupied_folder_is_refused()
    {
        using var tmp = new TempDir();
        var run = fixture.Copy(tmp);
        BaselineWriter.Write(run, BaselineKind.Copies, 24, tmp["copies"], trainLimit: Options.TrainLimit);
        var memo = Evaluate(run, tmp["copies"], Options with { Metrics = [MemorizationMetric.Key] }).Record.Metrics.Single();
        Assert.True(memo.Value >= 0.95, $"copies scored memorization {memo.Value}");
        Assert.True(memo.Floor < 0.3, $"floor {memo.Floor}");
        // 8-bit PNG rounding alone: RMS about 1 / (255 sqrt 12) = 0.0011.
        Assert.InRange(memo.Values["min_distance"], 0, 0.002);

        var e = Assert.Throws<HyphaException>(() => BaselineWriter.Write(run, BaselineKind.Flips, 4, tmp["copies"], trainLimit: Options.TrainLimit));
        Assert.Equal(ExitCode.OutputError, e.Code);
        Assert.Equal((int)ExitCode.Success, CliApp.Run(["baseline", "--run", run.Root, "--kind", "flips", "--count", "4", "--out", tmp["copies"], "--overwrite", "--train-limit", "300"]));
        Assert.Equal(4, Directory.GetFiles(tmp["copies"], "baseline_*.png").Length);
    }

    [Fact]
    public void Flips_are_non_identity_dihedral_transforms_of_training_chunks()
    {
        using var tmp = new TempDir();
        var run = fixture.Copy(tmp);
        var flips = BaselineWriter.Write(run, BaselineKind.Flips, 12, tmp["flips"], format: BaselineFormat.Tiff32, trainLimit: Options.TrainLimit);
        using var data = RunData.Open(run);
        using var scope = NewDisposeScope();
        var train = data.Cut(data.TrainSubset(Options.TrainLimit, 0));
        var read = SampleFolder.Read(tmp["flips"], new SampleFolderOptions { Size = 32, Channels = ChannelMode.Gray });
        Assert.Equal(12, flips.Count);
        for (var i = 0; i < 12; i++)
        {
            var x = read.Images[i];
            var identity = (train - x.unsqueeze(0)).abs().amax([1, 2, 3]).min().item<float>();
            var transformed = Enumerable.Range(0, BaselineWriter.Transforms.Length)
                .Min(t => (train - BaselineWriter.Apply(x, t).unsqueeze(0)).abs().amax([1, 2, 3]).min().item<float>());
            Assert.Equal(0f, transformed);
            Assert.True(identity > 0, $"image {i} is an untransformed training chunk");
        }
    }

    [Fact]
    public void The_same_images_as_16_bit_TIFF_and_8_bit_PNG_give_the_same_numbers()
    {
        using var tmp = new TempDir();
        var run = fixture.Copy(tmp);
        var pngs = BaselineWriter.Write(run, BaselineKind.Flips, 24, tmp["png8"], trainLimit: Options.TrainLimit);
        Directory.CreateDirectory(tmp["tiff16"]);
        var read = SampleFolder.Read(tmp["png8"], new SampleFolderOptions { Size = 32, Channels = ChannelMode.Gray });
        for (var i = 0; i < pngs.Count; i++)
            File.WriteAllBytes(Path.Combine(tmp["tiff16"], $"image_{i:D3}.tif"), ImageEncoding.Encode(read.Images[i], ImageFormat.Tiff16));
        var a = Evaluate(run, tmp["png8"]).Record;
        var b = Evaluate(run, tmp["tiff16"]).Record;
        Assert.NotEqual(a.Context["samples_sha256"], b.Context["samples_sha256"]);
        Assert.Equal(FolderMetrics, b.Metrics.Select(m => m.Name));
        foreach (var (ma, mb) in a.Metrics.Zip(b.Metrics))
            Assert.True(Math.Abs(ma.Value - mb.Value) <= 1e-9 * Math.Max(1, Math.Abs(ma.Value)), $"{ma.Name}: png8 {ma.Value}, tiff16 {mb.Value}");
    }

    [Fact]
    public void A_wrong_size_image_is_refused_or_resized_by_area_and_a_bad_file_follows_on_bad_image()
    {
        using var tmp = new TempDir();
        var run = fixture.Copy(tmp);
        var folder = tmp["mixed"];
        BaselineWriter.Write(run, BaselineKind.Copies, 6, folder, format: BaselineFormat.Tiff32, trainLimit: Options.TrainLimit);
        var options = new SampleFolderOptions { Size = 32, Channels = ChannelMode.Gray };
        var before = SampleFolder.Read(folder, options);
        // A 64 x 64 image: image 0 enlarged 2x by repeating pixels; area resizing gives image 0 back.
        var big = before.Images[0].repeat_interleave(2, 1).repeat_interleave(2, 2);
        File.WriteAllBytes(Path.Combine(folder, "z_big.tif"), BaselineWriter.Encode(big, BaselineFormat.Tiff32));

        var e = Assert.Throws<HyphaException>(() => SampleFolder.Read(folder, options));
        Assert.Equal(ExitCode.BadInput, e.Code);
        Assert.Contains("z_big.tif", e.Message);
        Assert.Contains("64 x 64", e.Message);
        Assert.Equal((int)ExitCode.BadInput, CliApp.Run(["evaluate", "--run", run.Root, "--samples", folder, "--metrics", "memorization", "--test-limit", "48", "--train-limit", "300"]));

        var resized = SampleFolder.Read(folder, options with { Resize = SampleResize.Area });
        Assert.Equal(1, resized.Resized);
        Assert.Equal(7, resized.Images.shape[0]);
        Assert.True((resized.Images[6] - before.Images[0]).abs().max().item<float>() < 1e-6f);

        // An unreadable file: skipped and counted by default, fatal with --on-bad-image fail.
        File.WriteAllBytes(Path.Combine(folder, "broken.png"), Encoding.ASCII.GetBytes("not a png"));
        Assert.Equal((int)ExitCode.BadInput, CliApp.Run(["evaluate", "--run", run.Root, "--samples", folder, "--resize", "area", "--on-bad-image", "fail",
            "--metrics", "memorization", "--test-limit", "48", "--train-limit", "300"]));
        Assert.Equal(0, CliApp.Run(["evaluate", "--run", run.Root, "--samples", folder, "--resize", "area",
            "--metrics", "memorization", "--test-limit", "48", "--train-limit", "300"]));
        var line = Assert.Single(MetricsJsonl.ReadAll(RunEvaluation.MetricsPath(run)));
        Assert.Equal("area", line.Context["resize"]);
        Assert.Equal("1", line.Context["resized"]);
        Assert.Equal("1", line.Context["samples_skipped"]);
        Assert.Equal("8", line.Context["samples_files"]);
        Assert.Equal("7", line.Context["samples"]);
    }

    [Fact]
    public void The_report_shows_the_latest_line_of_each_folder_beside_the_models_latest()
    {
        static EvaluationRecord Line(int minute, double value, string? folder) => new(
            new DateTimeOffset(2026, 12, 1, 12, minute, 0, TimeSpan.Zero), 0,
            folder is null ? new Dictionary<string, string> { ["epoch"] = "1" }
                : new Dictionary<string, string> { ["source"] = SampleFolderEvaluation.Source, ["samples_folder"] = "/x/" + folder, ["samples_folder_name"] = folder },
            [new MetricResult("swd", 1, value, 40, false, new Dictionary<string, double>(), new Dictionary<string, double>(),
                new Dictionary<string, int>(), new Dictionary<string, double>(), 0)],
            new Dictionary<string, string>());
        var all = new[] { Line(0, 1, null), Line(1, 2, "flips"), Line(2, 3, null), Line(3, 4, "flips"), Line(4, 5, "copies") };
        var (model, folders) = SamplesFolderSection.Latest(all);
        Assert.Equal(3, model!.Metrics[0].Value);
        Assert.Equal(["flips", "copies"], folders.Select(SamplesFolderSection.Label));
        Assert.Equal([4.0, 5.0], folders.Select(f => f.Metrics[0].Value));

        var h = new StringBuilder();
        SamplesFolderSection.Render(h, new ReportContent
        {
            RunName = "r", RunPath = "/r", Config = SmallRuns.Tiny(), ConfigJson = "{}", Evaluation = model, SampleFolderEvaluations = folders,
        });
        var html = h.ToString();
        Assert.Contains("<th>flips</th><th>copies</th>", html);
        Assert.Contains("<td class=\"num\">3</td><td class=\"num\">4</td><td class=\"num\">5</td><td class=\"num\">40</td>", html);
    }
}
