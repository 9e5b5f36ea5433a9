using Hypha.Models;
using Hypha.Cli;
using Hypha.Evaluation;
using Hypha.Sampling;
using Hypha.Tests.Reporting;
using Hypha.Training;
using static TorchSharp.torch;

namespace Hypha.Tests.Evaluation;

[Collection(EvaluatedRunCollection.Name)]
public class RunEvaluationTests(EvaluatedRun fixture)
{
    static readonly string[] AllKeys = ["psnr", "ssim", "iwae_bits_per_dim", "swd", "ms_ssim", "fd_resnet18", "kid",
        "precision", "recall", "density", "coverage", "memorization"];

    [Fact]
    public void Evaluate_appends_one_line_with_every_metric_its_floor_version_counts_seed_and_context()
    {
        var records = MetricsJsonl.ReadAll(RunEvaluation.MetricsPath(fixture.Run));
        var r = Assert.Single(records);
        Assert.Equal(AllKeys, r.Metrics.Select(m => m.Name));
        Assert.Empty(r.Skipped);
        Assert.Equal(0, r.Seed);
        foreach (var m in r.Metrics)
        {
            Assert.NotNull(m.Floor);
            Assert.True(double.IsFinite(m.Value), m.Name);
            Assert.True(m.Version >= 1, m.Name);
            Assert.NotEmpty(m.Counts);
            Assert.Equal(0, m.Seed);
        }
        foreach (var key in new[] { "run", "checkpoint", "epoch", "images_seen", "train_used", "test_used", "samples", RunEvaluation.ArtifactsKey })
            Assert.True(r.Context.ContainsKey(key), key);
        Assert.Equal("2", r.Context["epoch"]);
        Assert.Equal("48", r.Context["test_used"]);
        Assert.Equal("24", r.Context["samples"]);
        Assert.Equal("300", r.Context["train_used"]);
        Assert.Equal(24, r.Metrics.Single(m => m.Name == "fd_resnet18").Counts["samples"]);
        Assert.Equal(8, r.Metrics.Single(m => m.Name == IwaeMetric.Key).Parameters["k"]);

        var pairs = r.Metrics.Single(m => m.Name == "memorization").ClosestPairs!;
        Assert.Equal(16, pairs.Count);
        var images = ClosestPairImages.Read(Path.Combine(fixture.Run.Root, r.Context[RunEvaluation.ArtifactsKey]), pairs.Count);
        Assert.Equal(16, images.Count);
        Assert.All(pairs, p => Assert.InRange(p.TrainIndex, 0, 299));
    }

    [Fact]
    public void Every_registered_metric_runs_alone_on_the_trained_run()
    {
        using var session = TrainingSession.OpenTrained(fixture.Run);
        using var scope = NewDisposeScope();
        var index = session.Data.Index;
        var train = RunEvaluation.Cut(session, RunEvaluation.Subset(index.Train, 100, 0, 1), 64);
        var test = RunEvaluation.Cut(session, RunEvaluation.Subset(index.Test, 32, 0, 2), 64);
        var recon = RunEvaluation.Reconstruct((IEncoderModel)session.Model, test, session.Device, 64);
        var samples = session.Model.Sample(new SampleRequest(16, 0));
        using var inputs = EvaluationInputs.FromTestSplit(train, test, 0, samples, test, recon, session.Model);
        using var registry = MetricRegistry.CreateDefault();
        registry.Register(IwaeMetric.Key, () => new IwaeMetric { K = 4 });
        foreach (var name in registry.Names)
        {
            var record = Evaluator.Run(registry, inputs, [name]);
            var m = Assert.Single(record.Metrics);
            Assert.Equal(name, m.Name);
            Assert.NotNull(m.Floor);
            Assert.Empty(record.Skipped);
        }
    }

    [Fact]
    public void Each_metric_runs_alone_from_the_command_line_and_bad_input_gets_its_exit_code()
    {
        using var tmp = new TempDir();
        var run = fixture.CopyRun(tmp);
        var rc = CliApp.Run(["evaluate", "--run", run.Root, "--metrics", "psnr", "--test-limit", "16", "--seed", "3"]);
        Assert.Equal(0, rc);
        var last = MetricsJsonl.ReadAll(RunEvaluation.MetricsPath(run))[^1];
        Assert.Equal(["psnr"], last.Metrics.Select(m => m.Name));
        Assert.Equal(3, last.Seed);
        Assert.Equal(16, last.Metrics[0].Counts.Values.Max());

        Assert.Equal((int)ExitCode.InvalidConfig, CliApp.Run(["evaluate", "--run", run.Root, "--metrics", "psnr,fid"]));
        Assert.Equal((int)ExitCode.InvalidConfig, CliApp.Run(["evaluate", "--run", run.Root, "--iwae-k", "0"]));
        Assert.Equal((int)ExitCode.BadCheckpoint, CliApp.Run(["evaluate", "--run", tmp["missing"]]));
        Directory.CreateDirectory(tmp["empty"]);
        Assert.Equal((int)ExitCode.BadCheckpoint, CliApp.Run(["evaluate", "--run", tmp["empty"]]));
        Assert.Equal((int)ExitCode.BadCheckpoint, CliApp.Run(["report", "--run", tmp["empty"]]));
        File.Delete(run.LastCheckpoint);
        Assert.Equal((int)ExitCode.BadCheckpoint, CliApp.Run(["evaluate", "--run", run.Root]));
        Assert.Equal((int)ExitCode.BadCheckpoint, CliApp.Run(["report", "--run", run.Root]));
    }

    /// <summary>
    /// The K-sample bound, estimated from 64 draws per image as the mean over the 64 / K disjoint groups of K draws
    /// (lower variance than one group). The groups are nested, so the ordering follows from Jensen's inequality
    /// on the drawn weights; the strict gaps check that the trained model's posterior is not exact and that the
    /// weights vary as they should. (IwaeTests checks the bound against an exact log-likelihood.)
    /// </summary>
    [Fact]
    public void Iwae_bound_tightens_as_K_grows_on_a_trained_model()
    {
        using var session = TrainingSession.OpenTrained(fixture.Run);
        using var scope = NewDisposeScope();
        var x = RunEvaluation.Cut(session, session.Data.Index.Test.Take(32).ToList(), 32);
        using var gen = Seeds.Generator(0, 42);
        var logW = Iwae.LogWeights((ILikelihoodModel)session.Model, x, 64, Iwae.DefaultSigma, gen);
        int[] ks = [1, 4, 16, 64];
        var bounds = ks.Select(k => Enumerable.Range(0, 64 / k).Average(g => Iwae.Bound(logW[.., (g * k)..((g + 1) * k)], k))).ToArray();
        for (var i = 1; i < bounds.Length; i++)
            Assert.True(bounds[i] > bounds[i - 1] + 1e-6, $"bound for K = {ks[i]} ({bounds[i]}) not above K = {ks[i - 1]} ({bounds[i - 1]})");
        Assert.All(bounds, b => Assert.True(double.IsFinite(b)));
    }
}
