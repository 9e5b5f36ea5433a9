using System.Diagnostics;
using System.Text.Json;
using Hypha.Imaging;
using Hypha.Models;
using Hypha.Sampling;
using Hypha.Tests.Faults;
using Hypha.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Hypha.Tests.Synthesis;

/// <summary>A tiny diffusion run and a tiny VAE run, trained once for the synthesize tests.</summary>
public sealed class SynthesisRuns : IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public string Diffusion { get; }
    public string Vae { get; }

    public SynthesisRuns()
    {
        Diffusion = _tmp.Path("diffusion");
        var train = Faults.Cli.Run("train", "--images", Tiny.Image, "--preset", "diffusion-cpu", "--chunk", "32", "--stride", "16", "--width", "8",
            "--channel-mult", "1,2", "--res-blocks", "1", "--attention", "16", "--epoch-size", "32", "--batch", "16", "--epochs", "1",
            "--threads", "1", "--device", "cpu", "--sample-steps", "3", "--run", Diffusion);
        Assert.True(train.Code == 0, train.ToString());
        Vae = Tiny.Train(_tmp.Path("vae"));
        var gmm = Faults.Cli.Run("fit-prior", "--run", Vae, "--sampler", "gmm", "--components", "2", "--covariance", "diag");
        Assert.True(gmm.Code == 0, gmm.ToString());
    }

    public void Dispose() => _tmp.Dispose();
}

/// <summary><c>hypha synthesize</c> through the real command line on tiny runs: one window is <c>hypha sample</c>, outputs
/// are atomic, deterministic and never overwritten without --overwrite, and bad requests fail before any work.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SynthesizeCliTests(SynthesisRuns runs, ITestOutputHelper log) : IClassFixture<SynthesisRuns>, IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    CliResult Synthesize(string run, string outDir, params string[] extra)
    {
        var r = Faults.Cli.Run(["synthesize", "--run", run, "--out", outDir, "--device", "cpu", "--threads", "1", .. extra]);
        log.WriteLine(r.ToString());
        return r;
    }

    [Theory]
    [InlineData("diffusion")]
    [InlineData("diffusion", "--sampler", "ddpm", "--steps", "2")]
    [InlineData("vae")]
    [InlineData("vae", "--sampler", "gmm")]
    public void One_window_of_the_chunk_size_gives_the_image_hypha_sample_gives(string family, params string[] settings)
    {
        var run = family == "vae" ? runs.Vae : runs.Diffusion;
        var whole = _tmp.Path("whole");
        var chunks = _tmp.Path("chunks");
        Assert.Equal(0, Synthesize(run, whole, ["--size", "32x32", "--count", "2", "--seed", "5", "--format", "png8", .. settings]).Code);
        var s = Faults.Cli.Run(["sample", "--run", run, "--count", "2", "--seed", "5", "--batch", "1", "--out", chunks, "--device", "cpu", .. settings]);
        Assert.True(s.Code == 0, s.ToString());
        for (var i = 0; i < 2; i++)
            Assert.Equal(File.ReadAllBytes(Path.Combine(chunks, $"sample_{i:D6}.png")), File.ReadAllBytes(Path.Combine(whole, $"whole_{i:D6}.png")));
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(whole, WholeImageWriter.ManifestName))).RootElement;
        Assert.Equal(1, manifest.GetProperty("windows_per_image").GetInt32());
        if (settings.Length > 0) Assert.Equal(settings[1], manifest.GetProperty("sampler").GetString());
    }

    [Fact]
    public void Whole_images_are_deterministic_atomic_recorded_and_never_overwritten_without_overwrite()
    {
        var a = _tmp.Path("a");
        var r = Synthesize(runs.Diffusion, a, "--size", "80x48", "--count", "2", "--seed", "3", "--stride", "12", "--batch", "5");
        Assert.Equal(0, r.Code);
        Assert.Contains("windows/s", r.Out);
        Assert.Equal(["preview.png", "synthesis.json", "whole_000000.png", "whole_000000.tif", "whole_000001.png", "whole_000001.tif"], Faults.TempDir.FilesUnder(a));
        var png = ImageReader.Read(Path.Combine(a, "whole_000000.png"))[0];
        Assert.Equal((80, 48, 8), (png.Width, png.Height, png.BitDepth));
        var tif = ImageReader.Read(Path.Combine(a, "whole_000000.tif"))[0];
        Assert.Equal((80, 48, 16), (tif.Width, tif.Height, tif.BitDepth));
        // 8-bit and 16-bit files are the same image.
        Assert.True(png.Pixels.Zip(tif.Pixels).Max(p => Math.Abs(p.First / 255.0 - p.Second / 65535.0)) <= 0.5 / 255 + 1e-6);
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a, "whole_000000.png")), File.ReadAllBytes(Path.Combine(a, "whole_000001.png")));
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(a, WholeImageWriter.ManifestName))).RootElement;
        Assert.Equal("multidiffusion", manifest.GetProperty("method").GetString());
        Assert.Equal(5 * 3, manifest.GetProperty("windows_per_image").GetInt32()); // x: 0, 12, 24, 36, 48; y: 0, 12 and 16 (ending on the edge)
        var recorded = WholeImageWriter.Recorded(runs.Diffusion);
        Assert.Contains(recorded, e => e.Folder == Path.GetFullPath(a));

        // The same seed at another window batch makes the same images.
        var b = _tmp.Path("b");
        Assert.Equal(0, Synthesize(runs.Diffusion, b, "--size", "80x48", "--count", "1", "--seed", "3", "--stride", "12", "--batch", "28", "--format", "png8").Code);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "whole_000000.png")), File.ReadAllBytes(Path.Combine(b, "whole_000000.png")));

        // A folder with files is refused and left as it was; --overwrite replaces the images and removes the ones not made again.
        var before = Faults.TempDir.FilesUnder(a).ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(a, f)));
        var refused = Synthesize(runs.Diffusion, a, "--size", "64x64");
        Assert.Equal((int)ExitCode.OutputError, refused.Code);
        Assert.Contains("already holds files", refused.Err);
        Assert.Equal(before.Keys, Faults.TempDir.FilesUnder(a));
        foreach (var (f, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(a, f)));
        Assert.Equal(0, Synthesize(runs.Diffusion, a, "--size", "64x32", "--overwrite", "--format", "png8").Code);
        Assert.Equal(["preview.png", "synthesis.json", "whole_000000.png"], Faults.TempDir.FilesUnder(a));
        Assert.Equal(64, ImageReader.Read(Path.Combine(a, "whole_000000.png"))[0].Width);
    }

    [Fact]
    public void The_vae_tiles_with_feathered_overlaps_and_refuses_diffusion_settings()
    {
        var a = _tmp.Path("a");
        Assert.Equal(0, Synthesize(runs.Vae, a, "--size", "70x40", "--count", "1", "--format", "tiff16").Code);
        Assert.Equal(["preview.png", "synthesis.json", "whole_000000.tif"], Faults.TempDir.FilesUnder(a));
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(a, WholeImageWriter.ManifestName))).RootElement;
        Assert.Equal("tiled_decoding", manifest.GetProperty("method").GetString());
        Assert.Equal("feather", manifest.GetProperty("weighting").GetString());
        var bad = Synthesize(runs.Vae, _tmp.Path("b"), "--size", "64x64", "--steps", "3");
        Assert.Equal((int)ExitCode.InvalidConfig, bad.Code);
        Assert.Contains("--steps applies to --sampler latent-diffusion only (the run's model is resnet_vae)", bad.Err);
        Assert.False(Directory.Exists(_tmp.Path("b")));
    }

    [Fact]
    public void The_report_shows_the_latest_whole_images_beside_real_crops()
    {
        var a = _tmp.Path("for-report");
        Assert.Equal(0, Synthesize(runs.Vae, a, "--size", "96x64", "--count", "2", "--seed", "1").Code);
        var page = _tmp.Path("report.html");
        var r = Faults.Cli.Run("report", "--run", runs.Vae, "--out", page);
        Assert.True(r.Code == 0, r.ToString());
        var html = File.ReadAllText(page);
        var section = html[html.IndexOf("<section id=\"whole-images\">", StringComparison.Ordinal)..];
        section = System.Net.WebUtility.HtmlDecode(section[..section.IndexOf("</section>", StringComparison.Ordinal)]);
        Assert.Contains("<img", section);
        Assert.Contains("2 whole synthetic images of 96 x 64 px", section);
        Assert.Contains("crops of the run's real images (cell.png)", section);

        // A folder deleted since is not shown.
        Directory.Delete(a, recursive: true);
        Assert.DoesNotContain(WholeImageWriter.Recorded(runs.Vae), e => e.Folder == Path.GetFullPath(a));
    }

    [Theory]
    [InlineData("--size", "31x64", "smaller than one chunk of the run (32x32)")]
    [InlineData("--size", "64", "--size must be WIDTHxHEIGHT")]
    [InlineData("--stride", "33", "--stride must be in 1..32")]
    [InlineData("--count", "0", "--count must be at least 1")]
    [InlineData("--size", "16000x16000", "more than the")]
    public void Bad_requests_fail_before_any_work_with_one_line(string option, string value, string message)
    {
        var outDir = _tmp.Path("out");
        string[] args = option == "--size" ? [option, value] : ["--size", "64x64", option, value];
        if (value == "16000x16000") args = [.. args, "--stride", "1", "--batch", "100000000"]; // about 250 million windows, a batch of all of them
        var clock = Stopwatch.StartNew();
        var r = Synthesize(runs.Diffusion, outDir, args);
        Assert.Equal((int)ExitCode.InvalidConfig, r.Code);
        Assert.Contains(message, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.False(Directory.Exists(outDir), "a refused request created its output folder");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"refusing took {clock.Elapsed}");
    }

    [Fact]
    public void A_request_over_memory_is_refused_by_the_estimate_and_a_model_that_cannot_synthesize_by_name()
    {
        var (_, model, device) = Hypha.Training.TrainingSession.LoadModel(Hypha.Runs.RunFolder.Open(runs.Diffusion), "cpu");
        using (model)
        {
            var options = new WholeImageOptions { Width = 512, Height = 512, Batch = 64 };
            var job = WholeImageWriter.Plan(model, device, options);
            Assert.True(job.Needed > 0);
            // The estimate grows with the batch, not with the image beyond its own buffers.
            var larger = WholeImageWriter.Plan(model, device, options with { Batch = 128 });
            Assert.True(larger.Needed > job.Needed);
            Assert.NotNull(WholeImageWriter.Plan(model, device, options with { MemoryLimit = WholeImageWriter.Required(job.Needed) }));
            var e = Assert.Throws<HyphaException>(() => WholeImageWriter.Plan(model, device, options with { MemoryLimit = WholeImageWriter.Required(job.Needed) - 1 }));
            Assert.Equal(ExitCode.InvalidConfig, e.Code);
            Assert.Contains("--size 512x512 at --batch 64 needs about", e.Message);
        }
        using var pixels = new PixelGaussian(1, 32, 0.3);
        var refused = Assert.Throws<HyphaException>(() => WholeImageWriter.Plan(pixels, CPU, new WholeImageOptions { Width = 64, Height = 64 }));
        Assert.Equal("the run's model (pixel_gaussian) cannot synthesize whole images", refused.Message);
    }

    [Fact]
    public void A_cancelled_job_leaves_nothing_behind()
    {
        var (_, model, device) = Hypha.Training.TrainingSession.LoadModel(Hypha.Runs.RunFolder.Open(runs.Diffusion), "cpu");
        using var owned = model;
        var job = WholeImageWriter.Plan(model, device, new WholeImageOptions { Width = 64, Height = 64, Count = 3 });
        var outDir = _tmp.Path("cancelled");
        using var cts = new CancellationTokenSource();
        // Cancelled while the second image is made: the first one, already written, goes too.
        Assert.ThrowsAny<OperationCanceledException>(() =>
            WholeImageWriter.Write(job, device, outDir, progress: p => { if (p.Image == 1) cts.Cancel(); }, cancel: cts.Token));
        Assert.False(Directory.Exists(outDir));
    }
}
