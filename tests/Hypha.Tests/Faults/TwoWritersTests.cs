using System.Diagnostics;
using Hypha.Training;

namespace Hypha.Tests.Faults;

/// <summary>
/// Issue 15, "Two writers": a run folder and an output folder take one writer at a time; a second is refused naming the
/// holder's process id, and a killed holder leaves no stale lock.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class TwoWritersTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    [Fact]
    public void A_second_train_on_a_running_run_is_refused_naming_the_holder_and_a_killed_holder_leaves_no_lock()
    {
        var run = Tiny.Train(_tmp.Path("run"), "--epoch-size", "256");
        using (var first = Cli.Start("train", "--resume", "--run", run, "--epochs", "200"))
        {
            Assert.True(first.WaitFor(() => first.Out.Contains("epoch 2/200 step"), Limit), $"training did not start:\n{first.Err}\n{first.Out}");
            var second = Cli.Run("train", "--resume", "--run", run, "--epochs", "2");
            Assert.True(second.Code == (int)ExitCode.OutputError, second.ToString());
            Assert.Contains($"{run}: the run folder is in use by another hypha process (process id {first.Id})", second.Err);
            Assert.Single(second.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            first.Signal("KILL");
            first.Wait(Limit);
        }
        // The kernel dropped the killed process's lock: the run resumes.
        var done = Checkpoint.ReadHeader(Path.Combine(run, "checkpoints", "last.ckpt")).Epoch;
        var again = Cli.Run("train", "--resume", "--run", run, "--epochs", (done + 1).ToString());
        Assert.True(again.Code == 0, again.ToString());
    }

    [Fact]
    public void Sample_into_an_output_folder_another_process_holds_is_refused_naming_it()
    {
        var run = Tiny.Train(_tmp.Path("run"));
        var outDir = Directory.CreateDirectory(_tmp.Path("samples")).FullName;
        using var holder = Process.Start(new ProcessStartInfo("flock", ["-x", "-n", outDir, "sleep", "60"]) { UseShellExecute = false })!;
        try
        {
            var sw = Stopwatch.StartNew();
            while (!File.ReadAllText("/proc/locks").Contains($" {holder.Id} ") && sw.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(20);
            var r = Cli.Run("sample", "--run", run, "--out", outDir, "--count", "3", "--device", "cpu");
            Assert.True(r.Code == (int)ExitCode.OutputError, r.ToString());
            Assert.Contains($"{outDir}: the output folder is in use by another hypha process (process id {holder.Id})", r.Err);
            Assert.Empty(TempDir.FilesUnder(outDir));
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
        }
        var after = Cli.Run("sample", "--run", run, "--out", outDir, "--count", "3", "--device", "cpu");
        Assert.True(after.Code == 0, after.ToString());
    }
}

/// <summary>Issue 15: <c>sample --overwrite</c> replaces the folder's samples as a whole.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class OverwriteSamplesTests : IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Overwrite_with_fewer_samples_leaves_no_earlier_sample_mixed_in()
    {
        var run = Tiny.Train(_tmp.Path("run"));
        var outDir = _tmp.Path("samples");
        var r = Cli.Run("sample", "--run", run, "--out", outDir, "--count", "5", "--device", "cpu");
        Assert.True(r.Code == 0, r.ToString());
        File.WriteAllText(Path.Combine(outDir, "notes.txt"), "keep me");
        r = Cli.Run("sample", "--run", run, "--out", outDir, "--count", "2", "--device", "cpu", "--overwrite", "--seed", "3");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Equal(["grid.png", "manifest.csv", "notes.txt", "sample_000000.png", "sample_000001.png"], TempDir.FilesUnder(outDir));
    }
}
