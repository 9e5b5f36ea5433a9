using Hypha.Models;
using Hypha.Runs;
using Hypha.Training;
using static TorchSharp.torch;

namespace Hypha.Tests.Training;

public class CheckpointTests
{
    [Fact]
    public void RoundTripRestoresWeightsExactly()
    {
        using var dir = new TempDir();
        var options = new VaeOptions { Width = 4, Latent = 8 };
        manual_seed(1);
        using var a = options.Descriptor.Create(options, 1, 32);
        var header = new CheckpointHeader(Checkpoint.CurrentFormat, options, 1, 32, 3, 5, 50, 800, 0, false, DateTime.UtcNow);
        using var optimizer = new FlatAdam(a.Module.parameters(), 1e-3);
        Checkpoint.Save(dir["c.ckpt"], header, a, optimizer);

        manual_seed(2);
        using var b = options.Descriptor.Create(options, 1, 32);
        using var optimizerB = new FlatAdam(b.Module.parameters(), 1e-3);
        var read = Checkpoint.Load(dir["c.ckpt"], b, options, 1, 32, optimizerB);
        Assert.Equal((3, 5, 800L), (read.Epoch, read.StepInEpoch, read.ImagesSeen));
        var sa = a.Module.state_dict();
        var sb = b.Module.state_dict();
        Assert.Equal(sa.Keys.Order(), sb.Keys.Order());
        foreach (var (k, v) in sa) Assert.True((v == sb[k]).all().item<bool>(), k);
    }

    [Fact]
    public void ChannelsLastWeightsSaveAsTheirValuesAndLoadIntoEitherLayout()
    {
        using var dir = new TempDir();
        var options = new VaeOptions { Width = 4, Latent = 8 };
        manual_seed(1);
        using var a = options.Descriptor.Create(options, 1, 32);
        Hypha.Models.Layers.Autocast.StoreChannelsLast(a.Module);
        var conv = a.Module.parameters().First(p => p.dim() == 4 && p.shape[1] > 1);
        Assert.False(conv.is_contiguous()); // really stored channels-last
        using var optimizer = new FlatAdam(a.Module.parameters(), 1e-3);
        Checkpoint.Save(dir["c.ckpt"], new CheckpointHeader(Checkpoint.CurrentFormat, options, 1, 32, 0, 0, 0, 0, 0, false, DateTime.UtcNow), a, optimizer);

        manual_seed(2);
        using var plain = options.Descriptor.Create(options, 1, 32); // channels-first, as sample and reconstruct load it
        Checkpoint.Load(dir["c.ckpt"], plain, options, 1, 32, null);
        manual_seed(3);
        using var nhwc = options.Descriptor.Create(options, 1, 32); // channels-last with its optimizer, as a resume loads it
        Hypha.Models.Layers.Autocast.StoreChannelsLast(nhwc.Module);
        using var optimizerB = new FlatAdam(nhwc.Module.parameters(), 1e-3);
        Checkpoint.Load(dir["c.ckpt"], nhwc, options, 1, 32, optimizerB);
        var sa = a.Module.state_dict();
        foreach (var other in new[] { plain, nhwc })
            foreach (var (k, v) in other.Module.state_dict()) Assert.True((v == sa[k]).all().item<bool>(), k);
    }

    [Fact]
    public void OptimizerStateOfAnotherKindIsRefused()
    {
        using var dir = new TempDir();
        var options = new VaeOptions { Width = 4, Latent = 8 };
        using var a = options.Descriptor.Create(options, 1, 32);
        using (var torchAdam = new TorchAdam(a.Module.parameters(), 1e-3))
            Checkpoint.Save(dir["c.ckpt"], new CheckpointHeader(Checkpoint.CurrentFormat, options, 1, 32, 0, 0, 0, 0, 0, false, DateTime.UtcNow), a, torchAdam);
        using var b = options.Descriptor.Create(options, 1, 32);
        using var flat = new FlatAdam(b.Module.parameters(), 1e-3);
        var e = Assert.Throws<HyphaException>(() => Checkpoint.Load(dir["c.ckpt"], b, options, 1, 32, flat));
        Assert.Equal(ExitCode.BadCheckpoint, e.Code);
        Assert.Contains("torch_adam", e.Message);
        // Weights alone (sampling) still load.
        Checkpoint.Load(dir["c.ckpt"], b, options, 1, 32, null);
    }

    [Fact]
    public void CheckpointOfAnotherShapeIsRefusedBeforeLoading()
    {
        using var dir = new TempDir();
        var options = new VaeOptions { Width = 4, Latent = 8 };
        using var a = options.Descriptor.Create(options, 1, 32);
        Checkpoint.Save(dir["c.ckpt"], new CheckpointHeader(1, options, 1, 32, 0, 0, 0, 0, 0, false, DateTime.UtcNow), a, null);
        using var b = ModelRegistry.Get("resnet_vae").Create(options with { Latent = 16 }, 1, 32);
        var e = Assert.Throws<HyphaException>(() => Checkpoint.Load(dir["c.ckpt"], b, options with { Latent = 16 }, 1, 32, null));
        Assert.Equal(ExitCode.BadCheckpoint, e.Code);
        Assert.Contains("latent 8", e.Message);
        var e2 = Assert.Throws<HyphaException>(() => Checkpoint.Load(dir["c.ckpt"], a, options, 1, 64, null));
        Assert.Contains("32x32", e2.Message);
    }

    [Fact]
    public void ResumedRunReachesTheSameWeightsAsAnUninterruptedOne()
    {
        using var dir = new TempDir();
        var config = SmallRuns.Tiny(epochs: 2);
        var straight = RunFolder.At(dir["straight"]);
        SmallRuns.Train(straight, config);

        // Stop in the middle of epoch 2 (as Ctrl-C would), then resume.
        var interrupted = RunFolder.At(dir["interrupted"]);
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => SmallRuns.Train(interrupted, config, progress: p =>
        {
            if (p.Epoch == 1 && p.Step == 2) cts.Cancel();
        }, cancel: cts.Token));
        var header = Checkpoint.ReadHeader(interrupted.LastCheckpoint);
        Assert.Equal((1, 2), (header.Epoch, header.StepInEpoch));
        var result = SmallRuns.Train(interrupted, config, resume: true);
        Assert.True(result.Complete);

        var a = SmallRuns.Weights(straight);
        var b = SmallRuns.Weights(interrupted);
        foreach (var (name, values) in a) Assert.Equal(values, b[name]);

        // metrics.csv holds each step once, with no rows left over from before the interruption.
        var rows = Hypha.Training.Observers.MetricsCsvObserver.Read(interrupted.MetricsCsv);
        var trainSteps = rows.Where(r => r["phase"] == "train").Select(r => r["global_step"]).ToList();
        Assert.Equal(trainSteps.Distinct().Count(), trainSteps.Count);
        Assert.Equal(MetricsRowsOf(straight), MetricsRowsOf(interrupted));
    }

    [Fact]
    public void AutoLayoutIsChannelsLastOnCudaOnly()
    {
        // Channels-last on the CPU gave wrong weight gradients on an AVX2-only CPU (libtorch 2.10), and the resumed
        // run above then missed the uninterrupted one's weights: training on the CPU stays channels-first unless asked.
        var cpu = new Device("cpu");
        var cuda = new Device("cuda:0");
        Assert.False(new TrainOptions().ChannelsLastOn(cpu));
        Assert.True(new TrainOptions().ChannelsLastOn(cuda));
        Assert.True(new TrainOptions { Layout = Layout.Nhwc }.ChannelsLastOn(cpu));
        Assert.False(new TrainOptions { Layout = Layout.Nchw }.ChannelsLastOn(cuda));
    }

    [Fact]
    public void ResumeWithFewerEpochsThanDoneIsRefusedAndAtTheBoundaryMarksTheRunComplete()
    {
        using var dir = new TempDir();
        var run = RunFolder.At(dir["run"]);
        using var cts = new CancellationTokenSource();
        byte[]? atEpochEnd = null;
        // Interrupted in epoch 3 of 3, keeping the checkpoint written at the end of epoch 2 (what a kill between epochs leaves).
        Assert.Throws<OperationCanceledException>(() => SmallRuns.Train(run, SmallRuns.Tiny(epochs: 3), progress: p =>
        {
            if (p.Epoch != 2 || p.Step != 1) return;
            atEpochEnd = File.ReadAllBytes(run.LastCheckpoint);
            cts.Cancel();
        }, cancel: cts.Token));

        // Asking for fewer epochs cannot undo the ones done: a clear error, and the checkpoint is left as it was.
        var before = File.ReadAllBytes(run.LastCheckpoint);
        var e = Assert.Throws<HyphaException>(() => SmallRuns.Train(run, SmallRuns.Tiny(epochs: 2), resume: true));
        Assert.Equal(ExitCode.InvalidConfig, e.Code);
        Assert.Contains("--epochs 3", e.Message);
        Assert.Equal(before, File.ReadAllBytes(run.LastCheckpoint));

        // From the end of epoch 2, asking for 2 epochs trains nothing more and marks the run complete.
        File.WriteAllBytes(run.LastCheckpoint, atEpochEnd!);
        var atEnd = Checkpoint.ReadHeader(run.LastCheckpoint);
        Assert.Equal((2, 0, false), (atEnd.Epoch, atEnd.StepInEpoch, atEnd.Complete));
        Assert.True(SmallRuns.Train(run, SmallRuns.Tiny(epochs: 2), resume: true).Complete);
        var header = Checkpoint.ReadHeader(run.LastCheckpoint);
        Assert.Equal((2, 0, true, atEnd.GlobalStep), (header.Epoch, header.StepInEpoch, header.Complete, header.GlobalStep));
    }

    static List<string> MetricsRowsOf(RunFolder run) =>
        Hypha.Training.Observers.MetricsCsvObserver.Read(run.MetricsCsv).Select(r => $"{r["phase"]}:{r["global_step"]}:{r["loss"]}").ToList();

    [Fact]
    public void TrainingWritesTheWholeRunFolder()
    {
        using var dir = new TempDir();
        var run = RunFolder.At(dir["run"]);
        var result = SmallRuns.Train(run, SmallRuns.Tiny(epochs: 1));
        Assert.True(result.Complete);
        foreach (var f in new[] { run.ConfigPath, run.DatasetPath, run.LastCheckpoint, run.MetricsCsv,
                     Path.Combine(run.PlotsDir, "loss.png"), Path.Combine(run.PlotsDir, "kl.png"),
                     Path.Combine(run.GridsDir, "reconstructions.png"), Path.Combine(run.GridsDir, "samples.png") })
            Assert.True(new FileInfo(f).Length > 0, f);
        Assert.NotEmpty(Directory.GetFiles(run.EventsDir, "events.out.tfevents.*"));
        // The config round-trips through JSON unchanged.
        Assert.Equal(ConfigJson.Serialize(SmallRuns.Tiny(epochs: 1)), ConfigJson.Serialize(run.ReadConfig()));
        Assert.Contains("\"chunk\": 32", File.ReadAllText(run.ConfigPath));
    }
}
