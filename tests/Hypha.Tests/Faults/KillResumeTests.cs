using System.Globalization;
using Hypha.Models;
using Hypha.Runs;
using Hypha.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Hypha.Tests.Faults;

/// <summary>
/// Real processes and real signals: <c>hypha train</c> killed with SIGKILL at random points and resumed reaches the
/// same weights as an uninterrupted run with the same seed; SIGINT stops with exit 130 after writing a checkpoint.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class KillResumeTests(ITestOutputHelper log) : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    /// <summary>4 epochs of 8 steps, a checkpoint after every step: many places for a kill to land, mid-write and epoch ends
    /// included, and long enough (about 3 s here) that a faster machine does not finish before the random delay ends.</summary>
    static string[] Args(string run) => Tiny.TrainArgs(run, "--epochs", "4", "--epoch-size", "128", "--checkpoint-every", "1", "--seed", "7");

    static string Ckpt(string run) => RunCheckpoint.Path(run);

    static Dictionary<string, float[]> Weights(string run) => RunCheckpoint.Weights(run);

    [Fact]
    public void Sigkill_at_random_points_then_resume_reaches_the_weights_of_an_uninterrupted_run()
    {
        var reference = _tmp.Path("reference");
        var r = Cli.Run(Args(reference));
        Assert.True(r.Code == 0, r.ToString());

        var run = _tmp.Path("killed");
        var seed = Environment.GetEnvironmentVariable("HYPHA_FAULTS_SEED") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : Environment.TickCount;
        log.WriteLine($"kill timing seed {seed} (set HYPHA_FAULTS_SEED to replay)");
        var random = new Random(seed);
        var kills = 0;
        for (var attempt = 0; attempt < 6 && kills < 3; attempt++)
        {
            var resume = File.Exists(Path.Combine(run, "config.json"));
            using var child = Cli.Start(resume ? ["train", "--resume", "--run", run] : Args(run));
            var before = File.Exists(Ckpt(run)) ? File.GetLastWriteTimeUtc(Ckpt(run)) : DateTime.MinValue;
            // Wait for a checkpoint newer than the one we started from (training is under way), then a random delay.
            var started = child.WaitFor(() => File.Exists(Ckpt(run)) && File.GetLastWriteTimeUtc(Ckpt(run)) > before, Limit);
            if (!started || child.HasExited) { child.Wait(Limit); break; }
            Thread.Sleep(random.Next(0, 900)); // a step with its checkpoint takes ~0.1 s: kills land mid-step, mid-write, in epoch ends
            if (child.HasExited) { Assert.Equal(0, child.Wait(Limit).Code); break; }
            child.Signal("KILL");
            var killed = child.Wait(Limit);
            kills++;
            log.WriteLine($"kill {kills}: exit {killed.Code}; checkpoint {Describe(Checkpoint.ReadHeader(Ckpt(run)))}");
            // The newest complete checkpoint is whole and loads (weights and optimizer state).
            Weights(run);
            if (kills == 1)
            {
                // What a kill in the middle of a checkpoint write leaves: a partial temp file beside the intact checkpoint
                // (named with a PID above Linux's pid_max, so no live process owns it).
                var partial = File.ReadAllBytes(Ckpt(run));
                File.WriteAllBytes(Path.Combine(run, "checkpoints", ".last.ckpt.2147483000.tmp"), partial[..(partial.Length / 3)]);
            }
        }
        Assert.True(kills >= 1, "no kill landed while training ran");

        var finish = Cli.Start("train", "--resume", "--run", run).Wait(Limit);
        Assert.True(finish.Code == 0, finish.ToString());
        var header = Checkpoint.ReadHeader(Ckpt(run));
        Assert.True(header.Complete);
        Assert.Equal(Checkpoint.ReadHeader(Ckpt(reference)).GlobalStep, header.GlobalStep);
        Assert.Empty(Directory.GetFiles(Path.Combine(run, "checkpoints"), "*.tmp"));

        var expected = Weights(reference);
        var actual = Weights(run);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, values) in expected)
            Assert.True(values.AsSpan().SequenceEqual(actual[name]), $"{name} differs after {kills} kill(s) and resume");

        // metrics.csv: rows newer than the checkpoint a run resumed from were trimmed, so no step appears twice.
        var rows = Hypha.Training.Observers.MetricsCsvObserver.Read(Path.Combine(run, "metrics.csv"));
        var keys = rows.Select(row => (row["phase"], row["global_step"])).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        var seen = rows.Select(row => long.Parse(row["images_seen"], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(seen.Order(), seen);
    }

    static string Describe(CheckpointHeader h) => $"epoch {h.Epoch} step {h.StepInEpoch} global {h.GlobalStep}";

    [Fact]
    public void Sigint_stops_with_exit_130_after_writing_a_complete_checkpoint()
    {
        var run = _tmp.Path("interrupted");
        using var child = Cli.Start(Tiny.TrainArgs(run, "--epochs", "50", "--epoch-size", "256"));
        Assert.True(child.WaitFor(() => child.Out.Contains("epoch 1/50 step"), Limit), $"training did not start:\n{child.Err}\n{child.Out}");
        child.Signal("INT");
        var r = child.Wait(Limit);
        Assert.True(r.Code == (int)ExitCode.Interrupted, r.ToString());
        Assert.Contains("interrupted", r.Err);
        Assert.Contains("--resume", r.Err);
        var header = Checkpoint.ReadHeader(Ckpt(run));
        Assert.False(header.Complete);
        Assert.True(header.GlobalStep > 0);
        Weights(run);
        Assert.Empty(Directory.GetFiles(Path.Combine(run, "checkpoints"), "*.tmp"));

        // The run continues from there, finishing the interrupted epoch (on a fast machine the signal may land after
        // the first epoch, so the epoch count comes from the checkpoint).
        var through = header.Epoch + (header.StepInEpoch > 0 ? 1 : 0);
        var resumed = Cli.Run("train", "--resume", "--run", run, "--epochs", through.ToString(CultureInfo.InvariantCulture));
        Assert.True(resumed.Code == 0, resumed.ToString());
        var done = Checkpoint.ReadHeader(Ckpt(run));
        Assert.True(done.Complete);
        Assert.Equal(through, done.Epoch);
        Assert.True(done.GlobalStep >= header.GlobalStep);
    }
}

/// <summary>SIGTERM (docker stop, Slurm, systemd) and SIGHUP stop training as Ctrl-C does: a checkpoint, a message, a documented exit code.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class StopSignalTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("HUP", 129)]
    public void A_stop_signal_checkpoints_says_so_and_exits_with_its_code(string signal, int code)
    {
        var run = _tmp.Path("stopped");
        using var child = Cli.Start(Tiny.TrainArgs(run, "--epochs", "50", "--epoch-size", "256"));
        Assert.True(child.WaitFor(() => child.Out.Contains("epoch 1/50 step"), TimeSpan.FromSeconds(90)), $"training did not start:\n{child.Err}\n{child.Out}");
        child.Signal(signal);
        var r = child.Wait(TimeSpan.FromSeconds(90));
        Assert.True(r.Code == code, r.ToString());
        Assert.Contains($"interrupted by SIG{signal}", r.Err);
        Assert.Contains("--resume", r.Err);
        var header = Checkpoint.ReadHeader(Path.Combine(run, "checkpoints", "last.ckpt"));
        Assert.True(header.GlobalStep > 0);
        Assert.Empty(Directory.GetFiles(Path.Combine(run, "checkpoints"), "*.tmp"));
    }
}
