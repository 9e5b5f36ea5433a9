using System.Globalization;
using Hypha.Models;
using Hypha.Models.Adversarial;
using Hypha.Runs;
using Hypha.Tests.Faults;
using Hypha.Training;
using Hypha.Training.Observers;
using Xunit.Abstractions;

namespace Hypha.Tests.Models;

/// <summary>The sharper VAE losses through the real command line: settings, named terms in metrics.csv and the curves,
/// the discriminator in its own checkpoint section, and a SIGKILLed adversarial run resumed to the weights (VAE and
/// discriminator) of an uninterrupted one.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SharpVaeCliTests(ITestOutputHelper log) : IDisposable
{
    readonly Faults.TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    static readonly string[] Adversarial =
        ["--reconstruction", "l1", "--adversarial", "hinge", "--disc-width", "4", "--disc-layers", "2", "--disc-augment", "dihedral"];

    [Fact]
    public void Sharp_losses_train_report_their_terms_and_keep_the_discriminator_in_its_own_section()
    {
        var run = _tmp.Path("run");
        var r = Faults.Cli.Run(Tiny.TrainArgs(run, [.. Adversarial, "--perceptual-weight", "0.1", "--perceptual-stages", "1,2", "--disc-start", "32",
            "--epochs", "2", "--log-every", "1"]));
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains(" adversarial ", r.Out);
        Assert.Contains(" discriminator ", r.Out);

        var options = Assert.IsType<VaeOptions>(RunFolder.Open(run).ReadConfig().Model);
        Assert.Equal(ReconstructionLoss.L1, options.Reconstruction);
        Assert.Equal(AdversarialLoss.Hinge, options.Adversarial);
        Assert.Equal([1, 2], options.PerceptualStages);
        Assert.Equal(32, options.DiscStart);
        Assert.Equal(Hypha.Data.Augment.Dihedral, options.DiscAugment);

        var rows = MetricsCsvObserver.Read(Path.Combine(run, "metrics.csv"));
        Assert.Equal(["loss", "reconstruction", "kl", "mse_per_pixel", "psnr", "perceptual", "adversarial", "adv_weight", "discriminator", "d_real", "d_fake"],
            File.ReadLines(Path.Combine(run, "metrics.csv")).First().Split(',')[5..16]);
        // Before --disc-start (32 images, two steps of 16) there is no adversarial term; from then on every training row
        // has one; validation rows score reconstruction only.
        foreach (var row in rows.Where(x => x["phase"] == "train"))
        {
            var seenBefore = long.Parse(row["images_seen"], CultureInfo.InvariantCulture) - 16;
            Assert.Equal(seenBefore >= 32, row["discriminator"] != "");
            Assert.NotEqual("", row["perceptual"]);
        }
        Assert.All(rows.Where(x => x["phase"] == "val"), row => Assert.Equal("", row["adversarial"]));
        foreach (var plot in new[] { "loss", "perceptual", "adversarial", "adv_weight", "discriminator" })
            Assert.True(File.Exists(Path.Combine(run, "plots", plot + ".png")), plot);

        // The discriminator lives in the checkpoint's own section, not in the VAE's weights, and sampling and
        // evaluation need nothing of it.
        Assert.DoesNotContain(RunCheckpoint.Weights(run).Keys, k => k.StartsWith("net.", StringComparison.Ordinal));
        Assert.Contains(RunCheckpoint.AuxiliaryWeights(run).Keys, k => k.StartsWith("net.", StringComparison.Ordinal));
        var sample = Faults.Cli.Run("sample", "--run", run, "--count", "2", "--out", _tmp.Path("s"));
        Assert.True(sample.Code == 0, sample.ToString());
        var eval = Faults.Cli.Run("evaluate", "--run", run, "--metrics", "psnr,ssim", "--test-limit", "16");
        Assert.True(eval.Code == 0, eval.ToString());
    }

    [Fact]
    public void Bad_settings_are_refused_naming_the_option_before_any_work()
    {
        var bad = Faults.Cli.Run(Tiny.TrainArgs(_tmp.Path("a"), "--adversarial", "wasserstein"));
        Assert.Equal((int)ExitCode.InvalidConfig, bad.Code);
        Assert.Contains("--adversarial: 'wasserstein' is not one of none, hinge, least_squares", bad.Err);
        var stages = Faults.Cli.Run(Tiny.TrainArgs(_tmp.Path("b"), "--perceptual-stages", "2,7"));
        Assert.Equal((int)ExitCode.InvalidConfig, stages.Code);
        Assert.Contains("perceptual stages must be distinct numbers from 0 to 4", stages.Err);
        var deep = Faults.Cli.Run(Tiny.TrainArgs(_tmp.Path("c"), "--adversarial", "hinge", "--disc-layers", "4"));
        Assert.Equal((int)ExitCode.InvalidConfig, deep.Code);
        Assert.Contains("chunk size 32 is too small for a discriminator of 4 stride-2 layers: it needs at least 48", deep.Err);
        Assert.False(Directory.Exists(_tmp.Path("c")));
        // least-squares is accepted spelled with a dash, as the help writes it.
        var dry = Faults.Cli.Run(Tiny.TrainArgs(_tmp.Path("d"), "--adversarial", "least-squares", "--dry-run"));
        Assert.True(dry.Code == 0, dry.ToString());
        Assert.Contains("least_squares", dry.Out);
    }

    [Fact]
    public void Sigkill_then_resume_of_an_adversarial_run_reaches_the_weights_of_an_uninterrupted_run()
    {
        // 3 epochs of 4 steps, a checkpoint after every step, the discriminator from the third step on.
        string[] args(string run) => Tiny.TrainArgs(run, [.. Adversarial, "--disc-start", "32", "--epochs", "3", "--checkpoint-every", "1", "--seed", "5"]);
        var reference = _tmp.Path("reference");
        var r = Faults.Cli.Run(args(reference));
        Assert.True(r.Code == 0, r.ToString());

        var run = _tmp.Path("killed");
        var kills = KillLoop.Run(run, args(run), log, attempts: 4, maxKills: 2, maxDelayMs: 600, Limit);
        Assert.True(kills >= 1, "no kill landed while training ran");
        var finish = Faults.Cli.Start("train", "--resume", "--run", run).Wait(Limit);
        Assert.True(finish.Code == 0, finish.ToString());
        Assert.True(Checkpoint.ReadHeader(RunCheckpoint.Path(run)).Complete);

        foreach (var (what, expected, actual) in new[]
                 {
                     ("VAE", RunCheckpoint.Weights(reference), RunCheckpoint.Weights(run)),
                     ("discriminator", RunCheckpoint.AuxiliaryWeights(reference), RunCheckpoint.AuxiliaryWeights(run)),
                 })
        {
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (name, values) in expected)
                Assert.True(values.AsSpan().SequenceEqual(actual[name]), $"{what} {name} differs after {kills} kill(s) and resume");
        }
    }
}
