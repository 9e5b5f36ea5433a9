using System.Diagnostics;
using Hypha.Training;

namespace Hypha.Tests.Faults;

/// <summary>
/// A full disk (a tiny tmpfs) and a read-only output folder (a read-only bind mount, or chmod when not root): a clear
/// OutputError, and the previous checkpoint intact. Skipped, with the reason, where mounting is not allowed.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class DiskFaultTests(TrainedRunFixture trained) : IClassFixture<TrainedRunFixture>, IDisposable
{
    readonly TempDir _tmp = new();
    readonly List<string> _mounts = [];

    public void Dispose()
    {
        foreach (var m in Enumerable.Reverse(_mounts)) Sh("umount", m);
        _tmp.Dispose();
    }

    static (int Code, string Output) Sh(string file, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
            var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output.Trim());
        }
        catch (System.ComponentModel.Win32Exception e) { return (-1, e.Message); }
    }

    static bool IsRoot => Environment.UserName == "root";

    /// <summary>A tmpfs of <paramref name="kib"/> KiB at a new folder, or a skip with the reason.</summary>
    string TinyTmpfs(long kib)
    {
        var dir = Directory.CreateDirectory(_tmp.Path($"tmpfs-{_mounts.Count}")).FullName;
        var (code, output) = Sh("mount", "-t", "tmpfs", "-o", $"size={kib}k", "tmpfs", dir);
        Skip.If(code != 0, $"cannot mount a tmpfs to simulate a full disk (needs root or CAP_SYS_ADMIN): {output}");
        _mounts.Add(dir);
        return dir;
    }

    /// <summary>Makes <paramref name="dir"/> read-only: a read-only bind mount onto itself as root (root ignores chmod), else chmod.</summary>
    void MakeReadOnly(string dir)
    {
        if (IsRoot)
        {
            var (code, output) = Sh("mount", "--bind", "-o", "ro", dir, dir);
            Skip.If(code != 0, $"cannot bind-mount read-only (root ignores chmod, so there is no other way): {output}");
            _mounts.Add(dir);
            // Older util-linux ignores -o ro on the first bind: remount to be sure.
            if (IsWritable(dir)) Sh("mount", "-o", "remount,bind,ro", dir);
            Skip.If(IsWritable(dir), "the read-only bind mount is still writable here");
        }
        else
        {
            Skip.If(OperatingSystem.IsWindows(), "read-only folders are simulated with POSIX modes");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            Skip.If(IsWritable(dir), "chmod did not make the folder read-only");
        }
    }

    static bool IsWritable(string dir)
    {
        try
        {
            var probe = Path.Combine(dir, ".probe");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    static long SizeKib(string dir) => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / 1024;

    static string Ckpt(string run) => Path.Combine(run, "checkpoints", "last.ckpt");

    static void AssertOutputError(CliResult r, params string[] texts)
    {
        Assert.True(r.Code == (int)ExitCode.OutputError, $"expected exit 5 (OutputError):\n{r}");
        Assert.DoesNotContain("unexpected error", r.Err);
        foreach (var t in texts) Assert.Contains(t, r.Err);
    }

    [SkippableFact]
    public void Disk_full_while_resuming_gives_OutputError_and_keeps_the_previous_checkpoint()
    {
        // Room for the run as it is plus a little, not for a second checkpoint beside the first (atomic writes need both).
        var disk = TinyTmpfs(SizeKib(trained.Run) + 400);
        var run = trained.CopyTo(Path.Combine(disk, "run"));
        var before = File.ReadAllBytes(Ckpt(run));
        var r = Cli.Run("train", "--resume", "--run", run, "--epochs", "3", "--device", "cpu");
        AssertOutputError(r, "No space left on device");
        Assert.Equal(before, File.ReadAllBytes(Ckpt(run)));
        Assert.Equal(1, Checkpoint.ReadHeader(Ckpt(run)).Epoch);
        Assert.Empty(Directory.GetFiles(Path.Combine(run, "checkpoints"), "*.tmp"));
    }

    [SkippableFact]
    public void Disk_full_for_a_new_run_gives_OutputError()
    {
        var disk = TinyTmpfs(256);
        var r = Cli.Run(Tiny.TrainArgs(Path.Combine(disk, "run")));
        AssertOutputError(r, "No space left on device");
    }

    [SkippableFact]
    public void Disk_full_while_sampling_gives_OutputError_and_leaves_no_half_written_samples()
    {
        var disk = TinyTmpfs(48);
        var outDir = Path.Combine(disk, "samples");
        var r = Cli.Run("sample", "--run", trained.Run, "--out", outDir, "--count", "400", "--device", "cpu");
        AssertOutputError(r, "No space left on device");
        Assert.False(Directory.Exists(outDir), "the samples written before the disk filled up were left behind");

        // Into a folder that already held files (--overwrite): those stay, the new ones go.
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "notes.txt"), "keep me");
        r = Cli.Run("sample", "--run", trained.Run, "--out", outDir, "--count", "400", "--device", "cpu", "--overwrite");
        AssertOutputError(r, "No space left on device");
        Assert.Equal(["notes.txt"], TempDir.FilesUnder(outDir));
    }

    /// <summary>Writers other than AtomicFile (metrics.csv, events, plots) hitting a full disk or a read-only folder.</summary>
    [SkippableFact]
    public void Any_write_that_hits_a_full_disk_or_read_only_folder_exits_with_OutputError()
    {
        var disk = TinyTmpfs(64);
        var ro = Directory.CreateDirectory(_tmp.Path("ro-guard")).FullName;
        MakeReadOnly(ro);
        foreach (var (target, text) in new[] { (Path.Combine(disk, "metrics.csv"), "No space left on device"), (Path.Combine(ro, "metrics.csv"), "") })
        {
            var (oldErr, err) = (Console.Error, new StringWriter());
            Console.SetError(err);
            int code;
            try
            {
                code = Hypha.Cli.CliApp.Guard(_ =>
                {
                    using var w = new StreamWriter(target);
                    for (var i = 0; i < 20_000; i++) w.WriteLine("0,1,2,3,train,0.5,0.4,0.1,0.01,20,100,1,0");
                    return 0;
                });
            }
            finally { Console.SetError(oldErr); }
            var r = new CliResult(code, "", err.ToString());
            AssertOutputError(r, "cannot write output", text, target);
        }
    }

    [SkippableFact]
    public void Read_only_run_folder_gives_OutputError_and_keeps_the_checkpoint()
    {
        var run = trained.CopyTo(_tmp.Path("run"));
        var before = File.ReadAllBytes(Ckpt(run));
        MakeReadOnly(run);
        var r = Cli.Run("train", "--resume", "--run", run, "--epochs", "2", "--device", "cpu");
        AssertOutputError(r, run);
        Assert.Matches("Read-only file system|Access to the path .* is denied|Permission denied", r.Err);
        Assert.Equal(before, File.ReadAllBytes(Ckpt(run)));
    }

    [SkippableFact]
    public void Read_only_parent_folder_gives_OutputError_for_a_new_run_and_for_samples()
    {
        var parent = Directory.CreateDirectory(_tmp.Path("ro")).FullName;
        MakeReadOnly(parent);
        var r = Cli.Run(Tiny.TrainArgs(Path.Combine(parent, "run")));
        AssertOutputError(r, Path.Combine(parent, "run"), "cannot create the run folder");

        r = Cli.Run("sample", "--run", trained.Run, "--out", Path.Combine(parent, "samples"), "--count", "2", "--device", "cpu");
        AssertOutputError(r, Path.Combine(parent, "samples"), "cannot write to the output folder");
    }
}
