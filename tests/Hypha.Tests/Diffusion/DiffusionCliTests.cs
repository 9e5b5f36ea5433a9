using Hypha.Models;
using Hypha.Models.Diffusion;
using Hypha.Runs;
using Hypha.Tests.Faults;
using Hypha.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Hypha.Tests.Diffusion;

/// <summary>The diffusion family through the real command line: train, sample, evaluate, report; a SIGKILLed run
/// resumed reaches the weights and EMA of an uninterrupted one.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class DiffusionCliTests(ITestOutputHelper log) : IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    /// <summary>A tiny U-Net (width 8, two levels) on 32-pixel chunks of a real image; 4 steps an epoch.</summary>
    static string[] Args(string run, params string[] extra) =>
    [
        "train", "--images", Tiny.Image, "--preset", "diffusion-cpu", "--chunk", "32", "--stride", "16", "--width", "8",
        "--channel-mult", "1,2", "--res-blocks", "1", "--attention", "16", "--epoch-size", "64", "--batch", "16",
        "--threads", "1", "--device", "cpu", "--sample-steps", "4", "--run", run, .. extra.Contains("--epochs") ? extra : ["--epochs", "2", .. extra],
    ];

    static string Ckpt(string run) => RunCheckpoint.Path(run);

    static Dictionary<string, float[]> Weights(string run) => RunCheckpoint.Weights(run);

    [Fact]
    public void Diffusion_trains_samples_evaluates_and_reports_through_the_CLI()
    {
        var run = _tmp.Path("run");
        var train = Faults.Cli.Run(Args(run, "--augment", "dihedral"));
        Assert.True(train.Code == 0, train.ToString());
        var config = RunFolder.Open(run).ReadConfig();
        var options = Assert.IsType<DiffusionOptions>(config.Model);
        Assert.Equal([1, 2], options.ChannelMult);
        Assert.Equal(Hypha.Data.Augment.Dihedral, config.Train.Augment);
        var header = File.ReadLines(Path.Combine(run, "metrics.csv")).First().Split(',');
        Assert.Contains("x0_mse", header);
        Assert.DoesNotContain("kl", header);
        Assert.True(File.Exists(Path.Combine(run, "grids", "history", "samples_e002.png")));
        Assert.True(Weights(run).Keys.Any(k => k.StartsWith("ema.", StringComparison.Ordinal)), "the checkpoint holds no EMA weights");

        // Samples: DDIM (eta 0) is deterministic for a seed, DDPM and other step counts are taken, and a VAE-only
        // operation is refused by name.
        var a = _tmp.Path("a");
        var b = _tmp.Path("b");
        Assert.Equal(0, Faults.Cli.Run("sample", "--run", run, "--count", "3", "--out", a, "--seed", "5").Code);
        Assert.Equal(0, Faults.Cli.Run("sample", "--run", run, "--count", "3", "--out", b, "--seed", "5", "--batch", "2").Code);
        foreach (var f in Directory.GetFiles(a, "sample_*.png"))
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(b, Path.GetFileName(f))));
        var ddpm = Faults.Cli.Run("sample", "--run", run, "--count", "2", "--out", _tmp.Path("c"), "--sampler", "ddpm", "--steps", "3");
        Assert.True(ddpm.Code == 0, ddpm.ToString());
        var bad = Faults.Cli.Run("sample", "--run", run, "--count", "2", "--out", _tmp.Path("d"), "--sampler", "euler");
        Assert.Equal((int)ExitCode.InvalidConfig, bad.Code);
        Assert.Contains("unknown sampler 'euler'", bad.Err);
        var recon = Faults.Cli.Run("reconstruct", "--run", run, "--out", _tmp.Path("r"));
        Assert.Equal((int)ExitCode.InvalidConfig, recon.Code);

        // Evaluate: the sample metrics run, the reconstruction and likelihood ones are skipped with the reason.
        var eval = Faults.Cli.Run("evaluate", "--run", run, "--metrics", "psnr,iwae_bits_per_dim,swd,memorization", "--test-limit", "16", "--train-limit", "64");
        Assert.True(eval.Code == 0, eval.ToString());
        var record = Hypha.Evaluation.MetricsJsonl.ReadAll(Path.Combine(run, "metrics.jsonl"))[^1];
        Assert.Equal(["swd", "memorization"], record.Metrics.Select(m => m.Name));
        Assert.Contains("does not reconstruct", record.Skipped["psnr"]);
        Assert.Contains("no likelihood bound", record.Skipped["iwae_bits_per_dim"]);
        Assert.StartsWith("diffusion", record.Context["model"]);

        var report = Faults.Cli.Run("report", "--run", run);
        Assert.True(report.Code == 0, report.ToString());
        var html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("<section id=\"trajectory\">", html);
        Assert.Contains("does not encode chunks", html);
        Assert.Contains("Clean-image error per pixel", html);
    }

    [Fact]
    public void Sigkill_then_resume_reaches_the_weights_and_EMA_of_an_uninterrupted_run()
    {
        var reference = _tmp.Path("reference");
        var extra = new[] { "--epochs", "3", "--checkpoint-every", "1", "--seed", "3", "--augment", "dihedral" };
        var r = Faults.Cli.Run(Args(reference, extra));
        Assert.True(r.Code == 0, r.ToString());

        var run = _tmp.Path("killed");
        var kills = KillLoop.Run(run, Args(run, extra), log, attempts: 4, maxKills: 2, maxDelayMs: 600, Limit);
        Assert.True(kills >= 1, "no kill landed while training ran");
        var finish = Faults.Cli.Start("train", "--resume", "--run", run).Wait(Limit);
        Assert.True(finish.Code == 0, finish.ToString());
        Assert.True(Checkpoint.ReadHeader(Ckpt(run)).Complete);

        var expected = Weights(reference);
        var actual = Weights(run);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        Assert.Contains(expected.Keys, k => k.StartsWith("ema.", StringComparison.Ordinal));
        foreach (var (name, values) in expected)
            Assert.True(values.AsSpan().SequenceEqual(actual[name]), $"{name} differs after {kills} kill(s) and resume");
    }
}
