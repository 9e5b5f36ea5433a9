using System.Buffers.Binary;
using System.Text.Json.Nodes;

namespace Hypha.Tests.Faults;

/// <summary>A tiny run trained once for the tests of one class (in-process, about a second).</summary>
public sealed class TrainedRunFixture : IDisposable
{
    readonly TempDir _tmp = new();
    public string Run { get; }

    public TrainedRunFixture() => Run = Tiny.Train(_tmp.Path("trained"));

    /// <summary>A copy of the trained run that a test may break.</summary>
    public string CopyTo(string dir) => Copy(Run, dir);

    /// <summary>Copies the run folder <paramref name="run"/> to <paramref name="dir"/>; returns <paramref name="dir"/>.</summary>
    public static string Copy(string run, string dir)
    {
        foreach (var f in TempDir.FilesUnder(run))
        {
            var to = Path.Combine(dir, f);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(Path.Combine(run, f), to);
        }
        return dir;
    }

    public void Dispose() => _tmp.Dispose();
}

/// <summary>Broken checkpoints (exit BadCheckpoint, nothing written) and sample's refusal to overwrite (exit OutputError).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CheckpointAndOutputTests(TrainedRunFixture trained) : IClassFixture<TrainedRunFixture>, IDisposable
{
    readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    static string Ckpt(string run) => Path.Combine(run, "checkpoints", "last.ckpt");

    static void EditConfig(string run, Action<JsonNode> edit)
    {
        var path = Path.Combine(run, "config.json");
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    public static TheoryData<string, string> Broken => new()
    {
        { "truncated", "the checkpoint is truncated" },
        { "other-latent", "holds a resnet_vae \\(width 4, latent 8\\) model, but the run wants a resnet_vae \\(width 4, latent 16\\)" },
        { "other-width", "holds a resnet_vae \\(width 4, latent 8\\) model, but the run wants a resnet_vae \\(width 8, latent 8\\)" },
        { "other-chunk", "was trained on 1-channel 32x32 chunks, but the run uses 1-channel 64x64" },
        { "newer-format", "checkpoint format 99, newer than this Hypha understands \\(3\\)" },
        { "not-a-checkpoint", "is not a Hypha checkpoint" },
        { "missing", "no checkpoint here" },
    };

    void Break(string run, string how)
    {
        var ckpt = Ckpt(run);
        switch (how)
        {
            case "truncated":
                var all = File.ReadAllBytes(ckpt);
                File.WriteAllBytes(ckpt, all[..(all.Length * 3 / 5)]);
                break;
            case "other-latent": EditConfig(run, n => n["model"]!["latent"] = 16); break;
            case "other-width": EditConfig(run, n => n["model"]!["width"] = 8); break;
            case "other-chunk": EditConfig(run, n => { n["data"]!["chunk"] = 64; n["data"]!["stride"] = 32; }); break;
            case "newer-format":
                var bytes = File.ReadAllBytes(ckpt);
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan("HYPHA-CHECKPOINT".Length), 99);
                File.WriteAllBytes(ckpt, bytes);
                break;
            case "not-a-checkpoint": File.WriteAllBytes(ckpt, new byte[4096]); break;
            case "missing": File.Delete(ckpt); break;
        }
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public void Sample_from_a_broken_checkpoint_fails_with_BadCheckpoint_and_writes_nothing(string how, string problem)
    {
        var run = trained.CopyTo(_tmp.Path("run"));
        Break(run, how);
        var before = File.Exists(Ckpt(run)) ? File.ReadAllBytes(Ckpt(run)) : null;
        var outDir = _tmp.Path("samples");
        var r = Cli.Run("sample", "--run", run, "--out", outDir, "--count", "4", "--device", "cpu");
        Assert.True(r.Code == (int)ExitCode.BadCheckpoint, r.ToString());
        Assert.Contains(Ckpt(run), r.Err);
        Assert.Matches(problem, r.Err);
        Assert.False(Directory.Exists(outDir));
        if (before is not null) Assert.Equal(before, File.ReadAllBytes(Ckpt(run)));
    }

    [Theory]
    [InlineData("truncated", "the checkpoint is truncated")]
    [InlineData("newer-format", "newer than this Hypha understands")]
    public void Resume_from_a_broken_checkpoint_fails_with_BadCheckpoint_and_keeps_the_file(string how, string problem)
    {
        var run = trained.CopyTo(_tmp.Path("run"));
        Break(run, how);
        var before = File.ReadAllBytes(Ckpt(run));
        var r = Cli.Run("train", "--resume", "--run", run, "--epochs", "2", "--device", "cpu");
        Assert.True(r.Code == (int)ExitCode.BadCheckpoint, r.ToString());
        Assert.Contains(problem, r.Err);
        Assert.Equal(before, File.ReadAllBytes(Ckpt(run)));
    }

    [Fact]
    public void Resume_with_fewer_epochs_than_done_fails_with_InvalidConfig_and_changes_nothing()
    {
        var run = trained.CopyTo(_tmp.Path("run"));
        var two = Cli.Run("train", "--resume", "--run", run, "--epochs", "2", "--device", "cpu");
        Assert.True(two.Code == 0, two.ToString());
        var before = TempDir.FilesUnder(run).Select(f => (f, Convert.ToHexString(File.ReadAllBytes(Path.Combine(run, f))))).ToList();

        var r = Cli.Run("train", "--resume", "--run", run, "--epochs", "1", "--device", "cpu");
        Assert.True(r.Code == (int)ExitCode.InvalidConfig, r.ToString());
        Assert.Contains("already past epoch 1", r.Err);
        Assert.Contains("--epochs 3", r.Err);
        // config.json still says 2 epochs, so a plain --resume finds the run complete rather than refused.
        Assert.Equal(before, TempDir.FilesUnder(run).Select(f => (f, Convert.ToHexString(File.ReadAllBytes(Path.Combine(run, f))))).ToList());
        var again = Cli.Run("train", "--resume", "--run", run, "--device", "cpu");
        Assert.True(again.Code == 0, again.ToString());
    }

    [Fact]
    public void Resume_without_a_run_folder_fails_with_BadCheckpoint()
    {
        var r = Cli.Run("train", "--resume", "--run", _tmp.Path("nowhere"));
        Assert.True(r.Code == (int)ExitCode.BadCheckpoint, r.ToString());
        Assert.Contains("no such run folder", r.Err);
    }

    [Fact]
    public void Train_into_an_existing_run_without_resume_fails_with_OutputError()
    {
        var run = trained.CopyTo(_tmp.Path("run"));
        var before = TempDir.FilesUnder(run).Select(f => (f, Convert.ToHexString(File.ReadAllBytes(Path.Combine(run, f))))).ToList();
        var r = Cli.Run(Tiny.TrainArgs(run));
        Assert.True(r.Code == (int)ExitCode.OutputError, r.ToString());
        Assert.Contains("already holds a trained run", r.Err);
        Assert.Equal(before, TempDir.FilesUnder(run).Select(f => (f, Convert.ToHexString(File.ReadAllBytes(Path.Combine(run, f))))).ToList());
    }

    /// <summary>A run that stopped before its first checkpoint (a crash, a time limit hit early) is no dead end: it can be
    /// trained again without --resume, and --resume starts it from the beginning.</summary>
    [Fact]
    public void A_run_without_a_checkpoint_can_be_reused_or_resumed_from_the_start()
    {
        var run = trained.CopyTo(_tmp.Path("run"));
        File.Delete(Path.Combine(run, "checkpoints", "last.ckpt"));
        var again = Cli.Run(Tiny.TrainArgs(run));
        Assert.True(again.Code == 0, again.ToString());
        File.Delete(Path.Combine(run, "checkpoints", "last.ckpt"));
        var resumed = Cli.Run("train", "--resume", "--run", run);
        Assert.True(resumed.Code == 0, resumed.ToString());
        Assert.True(File.Exists(Path.Combine(run, "checkpoints", "last.ckpt")));
        Assert.True(Hypha.Training.Checkpoint.ReadHeader(Path.Combine(run, "checkpoints", "last.ckpt")).Complete);
    }

    /// <summary>--time-limit stops training with a checkpoint that --resume continues.</summary>
    [Fact]
    public void A_time_limit_stops_with_a_checkpoint_that_resume_continues()
    {
        var run = _tmp.Path("limited");
        var r = Cli.Run(Tiny.TrainArgs(run, "--epochs", "50", "--time-limit", "0.0001"));
        Assert.True(r.Code == 0, r.ToString());
        var header = Hypha.Training.Checkpoint.ReadHeader(Path.Combine(run, "checkpoints", "last.ckpt"));
        Assert.False(header.Complete);
        Assert.Equal(1, header.GlobalStep);
        var resumed = Cli.Run("train", "--resume", "--run", run, "--epochs", "1", "--time-limit", "0");
        Assert.True(resumed.Code == 0, resumed.ToString());
        Assert.True(Hypha.Training.Checkpoint.ReadHeader(Path.Combine(run, "checkpoints", "last.ckpt")).Complete);
    }

    [Fact]
    public void Sample_never_overwrites_unless_asked()
    {
        var outDir = Directory.CreateDirectory(_tmp.Path("samples")).FullName;
        File.WriteAllText(Path.Combine(outDir, "sample_000000.png"), "precious");
        File.WriteAllText(Path.Combine(outDir, "notes.txt"), "keep me");

        var r = Cli.Run("sample", "--run", trained.Run, "--out", outDir, "--count", "3", "--device", "cpu");
        Assert.True(r.Code == (int)ExitCode.OutputError, r.ToString());
        Assert.Contains(outDir, r.Err);
        Assert.Contains("already holds files", r.Err);
        Assert.Contains("--overwrite", r.Err);
        Assert.Equal(["notes.txt", "sample_000000.png"], TempDir.FilesUnder(outDir));
        Assert.Equal("precious", File.ReadAllText(Path.Combine(outDir, "sample_000000.png")));

        // A file where the folder should be.
        var file = Path.Combine(outDir, "notes.txt");
        r = Cli.Run("sample", "--run", trained.Run, "--out", file, "--count", "3", "--device", "cpu");
        Assert.True(r.Code == (int)ExitCode.OutputError, r.ToString());
        Assert.Contains("is a file, not a folder", r.Err);

        r = Cli.Run("sample", "--run", trained.Run, "--out", outDir, "--count", "3", "--device", "cpu", "--overwrite");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Equal(["grid.png", "manifest.csv", "notes.txt", "sample_000000.png", "sample_000001.png", "sample_000002.png"], TempDir.FilesUnder(outDir));
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(outDir, "notes.txt")));
        Assert.Equal([0x89, (byte)'P'], File.ReadAllBytes(Path.Combine(outDir, "sample_000000.png"))[..2]);

        // Into an empty (or new) folder no flag is needed.
        r = Cli.Run("sample", "--run", trained.Run, "--out", _tmp.Path("fresh"), "--count", "2", "--device", "cpu");
        Assert.True(r.Code == 0, r.ToString());
    }
}
